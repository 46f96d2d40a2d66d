import { isbot } from 'isbot';

/** Automation that announces itself beyond isbot's crawler list. */
const headlessPattern =
  /HeadlessChrome|PhantomJS|puppeteer|playwright|selenium|webdriver|curl\/|wget\/|python-requests|Go-http-client|node-fetch|axios\//i;

/** A user agent that is a bot, a crawler or a headless browser (isbot's maintained list plus headless markers). */
export function isBotUserAgent(userAgent: string | null): boolean {
  if (!userAgent) return true;
  return isbot(userAgent) || headlessPattern.test(userAgent);
}
