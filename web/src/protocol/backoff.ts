/** Delay before reconnect attempt `attempt` (0-based): exponential, capped, with jitter so a
 * restarted gateway is not hit by every browser in the same instant. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(10_000, 250 * 2 ** Math.min(attempt, 10));
  return Math.round(base / 2 + random() * (base / 2));
}
