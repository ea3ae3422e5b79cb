// Where the agent's JWT comes from and how it is kept fresh.
//
// - Development: `make dev` prints http://HOST/#token=JWT. The fragment never reaches a server
//   or a log; it is read once and removed from the address bar.
// - Embedded in a host application: the host calls `window.omniInbox.setToken(jwt)` or posts
//   `{type: "omni-inbox:token", token}` to this window. Before the token expires the inbox asks
//   for a fresh one: it calls `window.omniInbox.onTokenRequest` if the host set it, and posts
//   `{type: "omni-inbox:token-request"}` to its parent window.

export interface Claims {
  sub?: string;
  exp?: number;
  tenant_id?: string;
  role?: string;
}

/** The JWT's payload, unverified (the gateway verifies it); null when it is not a JWT. */
export function claimsOf(token: string): Claims | null {
  const part = token.split(".")[1];
  if (part === undefined) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const value: unknown = JSON.parse(json);
    return typeof value === "object" && value !== null ? (value as Claims) : null;
  } catch {
    return null;
  }
}

/** When to ask for a fresh token: a minute before expiry, or at a fifth of a short lifetime. */
export function refreshDelayMs(token: string, nowMs: number): number | null {
  const exp = claimsOf(token)?.exp;
  if (exp === undefined) return null;
  const left = exp * 1000 - nowMs;
  return Math.max(0, left - Math.min(60_000, left / 5));
}

/** Reads `#token=...` from a location hash; returns the token and the hash without it. */
export function tokenFromHash(hash: string): { token: string | null; rest: string } {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const token = params.get("token");
  params.delete("token");
  const rest = params.toString();
  return { token, rest: rest ? `#${rest}` : "" };
}

type Listener = (token: string | null) => void;

export class TokenStore {
  private token: string | null = null;
  private readonly listeners = new Set<Listener>();
  private waiting: Array<(token: string) => void> = [];

  get current(): string | null {
    return this.token;
  }

  snapshot = (): string | null => this.token;

  set(token: string | null): void {
    this.token = token;
    if (token !== null) {
      const waiting = this.waiting;
      this.waiting = [];
      for (const resolve of waiting) resolve(token);
    }
    for (const listener of this.listeners) listener(token);
  }

  /** The token now, or the next one handed in. */
  next(): Promise<string> {
    if (this.token !== null) return Promise.resolve(this.token);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  // Arrow functions: React's useSyncExternalStore calls them unbound.
  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}
