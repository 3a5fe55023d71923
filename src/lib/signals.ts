/**
 * Resolves on the first SIGINT/SIGTERM. Later signals do not kill the process mid-cleanup (a terminal's Ctrl-C and a
 * supervisor's TERM often both arrive); the third one forces an exit.
 */
export function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    let count = 0;
    const onSignal = (sig: string) => {
      count++;
      if (count === 1) resolve(sig);
      else if (count === 2) console.error(`${sig}: still shutting down (send once more to force)`);
      else process.exit(130);
    };
    process.on("SIGINT", () => onSignal("SIGINT"));
    process.on("SIGTERM", () => onSignal("SIGTERM"));
  });
}
