/** Talks to the engine's stats socket (HTTP over a unix socket): /healthz and /stats. */

export async function engineRequest(socketPath: string, path: "/healthz" | "/stats", timeoutMs = 1000): Promise<unknown | null> {
  try {
    const res = await fetch(`http://localhost${path}`, { unix: socketPath, signal: AbortSignal.timeout(timeoutMs) } as RequestInit);
    if (!res.ok) return null;
    return await res.json();
  } catch {
    return null;
  }
}
