import type { Response } from 'express';
import { escapeHtml, sendHtmlPage } from '../html';
import type { OpenApiDocument, OpenApiOperation } from './openApiDocument';

// Wider than the link pages: this page holds tables and schemas.
const docsStyle =
  'body{max-width:60rem;margin:2rem auto}code,pre{font-family:ui-monospace,monospace;font-size:.85rem}' +
  'pre{background:#f5f5f5;padding:.75rem;overflow-x:auto}section{border-top:1px solid #ddd;margin-top:1.5rem}' +
  '.method{font-weight:bold;padding:0 .3rem;border:1px solid #888}table{border-collapse:collapse}td,th{text-align:left;padding:.2rem .6rem .2rem 0;vertical-align:top}';

const authLabels: Record<string, string> = {
  bearerAuth: 'Bearer access token',
  refreshCookie: 'refresh cookie (iam_rt)',
};

interface DocsEntry {
  method: string;
  path: string;
  operation: OpenApiOperation;
}

/**
 * `GET /docs`: the reference of `/api/v1`, rendered on the server from the OpenAPI document.
 * No script and no third-party asset, so it works under the shell's strict CSP (OWASP ASVS 4.0
 * V14.4.3); every value from the document is escaped.
 */
export function sendDocsPage(res: Response, document: OpenApiDocument): void {
  const entries = entriesOf(document);
  const base = document.servers[0]?.url ?? '';
  // From the mount path, so `/docs/` links it as well as `/docs`.
  const documentPath = `${base ? new URL(base).pathname.replace(/\/$/, '') : ''}/openapi.json`;
  const intro =
    `<p>${escapeHtml(document.info.description)}</p>` +
    `<p>Base URL: <code>${escapeHtml(base)}</code>. The machine-readable document: <a href="${escapeHtml(documentPath)}">openapi.json</a> (OpenAPI ${escapeHtml(document.openapi)}).</p>` +
    `<p>Every refusal is <code>{ "error": { "code", "iamCode", "message" } }</code> with the HTTP status of its code.</p>`;
  const index = document.tags
    .map((tag) => {
      const items = entries
        .filter((entry) => entry.operation.tags.includes(tag.name))
        .map(
          (entry) =>
            `<li><a href="#${escapeHtml(entry.operation.operationId)}">${escapeHtml(entry.method)} ${escapeHtml(entry.path)}</a></li>`,
        )
        .join('');
      return `<h2>${escapeHtml(tag.name)}</h2><p>${escapeHtml(tag.description)}</p><ul>${items}</ul>`;
    })
    .join('');
  sendHtmlPage(res, {
    status: 200,
    title: document.info.title,
    bodyHtml: intro + index + entries.map(operationHtml).join(''),
    style: docsStyle,
  });
}

function entriesOf(document: OpenApiDocument): DocsEntry[] {
  const entries: DocsEntry[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    if (item.get) entries.push({ method: 'GET', path, operation: item.get });
    if (item.post) entries.push({ method: 'POST', path, operation: item.post });
  }
  return entries;
}

function operationHtml({ method, path, operation }: DocsEntry): string {
  const auth =
    operation.security.length === 0
      ? 'none'
      : operation.security.flatMap((entry) => Object.keys(entry).map((key) => authLabels[key] ?? key)).join(' or ');
  const body = operation.requestBody
    ? `<h4>Request body${operation.requestBody.required ? '' : ' (optional)'}</h4><pre>${escapeHtml(JSON.stringify(operation.requestBody.content['application/json'].schema, null, 2))}</pre>`
    : '<h4>Request body</h4><p>None.</p>';
  const responses = Object.entries(operation.responses)
    .map(([status, response]) => {
      const codes =
        response['x-iam-codes']?.map((code) => `<code>${escapeHtml(code)}</code>`).join(', ') ?? escapeHtml(response.description);
      return `<tr><td>${escapeHtml(status)}</td><td>${codes}</td></tr>`;
    })
    .join('');
  return (
    `<section id="${escapeHtml(operation.operationId)}"><h3><span class="method">${escapeHtml(method)}</span> <code>${escapeHtml(path)}</code></h3>` +
    `<p>${escapeHtml(operation.summary)}</p><p>Operation <code>${escapeHtml(operation.operationId)}</code> · tag ${escapeHtml(operation.tags.join(', '))} · auth: ${escapeHtml(auth)}</p>` +
    `${body}<h4>Responses</h4><table><tr><th>status</th><th>codes</th></tr>${responses}</table></section>`
  );
}
