// The bridge to the page that hosts the inbox (see web/README.md, "Embedding").

import { refreshDelayMs, tokenFromHash, TokenStore } from "./token";

export interface OmniInboxHost {
  setToken(token: string): void;
  /** media-api's origin when it is not this page's (set by the host before the app loads). */
  mediaUrl?: string;
  /** Set by the host: called before the token expires; hand the fresh one to setToken. */
  onTokenRequest?: () => void;
}

declare global {
  interface Window {
    omniInbox?: OmniInboxHost;
  }
}

export const tokens = new TokenStore();

// The tab keeps its token and media origin across a reload (sessionStorage: this tab only,
// gone when it closes); the token is short-lived and refreshed by the host.
const TOKEN_KEY = "omni-inbox:token";
const MEDIA_KEY = "omni-inbox:media";

function stored(key: string): string | null {
  try {
    return window.sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

function store(key: string, value: string | null): void {
  try {
    if (value === null) window.sessionStorage.removeItem(key);
    else window.sessionStorage.setItem(key, value);
  } catch {
    // storage disabled: the token lives in memory only
  }
}

/** media-api's origin: `#media=` of the sign-in URL, the host's `mediaUrl`, or this page's. */
export function mediaOrigin(): string {
  return (window.omniInbox?.mediaUrl ?? stored(MEDIA_KEY) ?? "").replace(/\/$/, "");
}

function requestFreshToken(): void {
  window.omniInbox?.onTokenRequest?.();
  if (window.parent !== window) window.parent.postMessage({ type: "omni-inbox:token-request" }, "*");
}

/** Reads the fragment, listens to the host, and asks for a fresh token before expiry. */
export function installHostBridge(): () => void {
  const { token, rest: afterToken } = tokenFromHash(window.location.hash);
  const params = new URLSearchParams(afterToken.replace(/^#/, ""));
  const media = params.get("media");
  if (media !== null) store(MEDIA_KEY, media);
  params.delete("media");
  const rest = params.toString() ? `#${params}` : "";
  if (token !== null || media !== null) {
    // Out of the address bar and history at once: a copied URL does not carry the token.
    window.history.replaceState(null, "", window.location.pathname + window.location.search + rest);
  }
  const existing = window.omniInbox;
  window.omniInbox = {
    ...existing,
    setToken: (fresh: string) => tokens.set(fresh),
  };
  const onMessage = (event: MessageEvent) => {
    const data = event.data as { type?: unknown; token?: unknown } | null;
    if (event.source === window.parent && data?.type === "omni-inbox:token" && typeof data.token === "string") {
      tokens.set(data.token);
    }
  };
  window.addEventListener("message", onMessage);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = (current: string | null) => {
    clearTimeout(timer);
    if (current === null) return;
    const delay = refreshDelayMs(current, Date.now());
    if (delay !== null) timer = setTimeout(requestFreshToken, delay);
  };
  const unsubscribe = tokens.subscribe((current) => {
    store(TOKEN_KEY, current);
    schedule(current);
  });
  const initial = token ?? stored(TOKEN_KEY);
  if (initial !== null) tokens.set(initial);
  return () => {
    unsubscribe();
    clearTimeout(timer);
    window.removeEventListener("message", onMessage);
  };
}

export { requestFreshToken };
