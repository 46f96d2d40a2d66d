/**
 * Runs `run` every `intervalInMs`, each run starting once the one before has settled (never two
 * at once), until stopped. A failed run is reported to `onError` and the next one tries again.
 * The timer never keeps the process alive.
 */
export function repeatEvery(intervalInMs: number, run: () => Promise<void>, onError: (error: unknown) => void): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = () => {
    run()
      .catch(onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalInMs).unref();
      });
  };
  timer = setTimeout(tick, intervalInMs).unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
