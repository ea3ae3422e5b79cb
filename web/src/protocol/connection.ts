// The websocket client of docs/websocket-protocol.md: auth first frame, channels resumed by
// cursor after every reconnect, duplicates dropped, reconnect with backoff. No React here.

import { backoffMs } from "./backoff";
import { CursorBook } from "./cursors";
import { parseFrame, type ClientFrame, type RealtimeEvent, type ServerFrame } from "./types";

export type ConnectionState = "connecting" | "connected" | "reconnecting" | "offline" | "signed-out";

/** The part of the browser's WebSocket the client uses (tests pass a fake). */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface ConnectionOptions {
  url: string;
  /** The current token; called on every (re)connect, so a refreshed token is used. */
  token: () => Promise<string>;
  onEvent: (event: RealtimeEvent, cursor: number) => void;
  /** The channel's state must be reloaded over REST (first subscription, or `reset`). */
  onReload?: (channel: string) => void;
  onState?: (state: ConnectionState) => void;
  onError?: (frame: Extract<ServerFrame, { type: "error" }>) => void;
  /** The gateway refused the token (close 4001): ask the host for a fresh one. */
  onUnauthenticated?: () => Promise<boolean>;
  createSocket?: (url: string) => SocketLike;
  timers?: Timers;
  random?: () => number;
}

const browserTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

// Close codes after which reconnecting cannot help (docs/websocket-protocol.md §5).
const FATAL = new Set([1008, 4400]);

export class RealtimeConnection {
  readonly cursors = new CursorBook();
  private socket: SocketLike | null = null;
  private ready = false;
  private attempt = 0;
  private retry: unknown = null;
  private stopped = true;
  private online = true;
  private current: ConnectionState = "connecting";
  private readonly timers: Timers;

  constructor(private readonly options: ConnectionOptions) {
    this.timers = options.timers ?? browserTimers;
  }

  get state(): ConnectionState {
    return this.current;
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.cancelRetry();
    const socket = this.socket;
    this.detach();
    socket?.close(1000, "client closed");
  }

  subscribe(channel: string): void {
    if (this.cursors.want(channel) && this.ready) this.sendSubscribe(channel);
  }

  unsubscribe(channel: string): void {
    if (!this.cursors.has(channel)) return;
    this.cursors.drop(channel);
    if (this.ready) this.send({ type: "unsubscribe", channel });
  }

  /** The browser's online/offline hints: offline shows at once, online reconnects now. */
  setOnline(online: boolean): void {
    this.online = online;
    if (!online) {
      const socket = this.socket;
      this.detach();
      socket?.close(1000, "offline");
      this.cursors.disconnected();
      this.cancelRetry();
      this.setState("offline");
    } else if (!this.stopped && this.socket === null) {
      this.cancelRetry();
      this.attempt = 0;
      this.open();
    }
  }

  /** Reconnect now with a fresh token (after the host handed one). */
  reconnect(): void {
    if (this.stopped) return;
    const socket = this.socket;
    this.detach();
    socket?.close(1000, "reconnecting");
    this.cursors.disconnected();
    this.cancelRetry();
    this.open();
  }

  private open(): void {
    if (!this.online) {
      this.setState("offline");
      return;
    }
    this.setState(this.attempt === 0 && this.current !== "reconnecting" ? "connecting" : "reconnecting");
    const create = this.options.createSocket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
    let socket: SocketLike;
    try {
      socket = create(this.options.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    this.ready = false;
    socket.onopen = () => {
      void this.options.token().then(
        (token) => this.socket === socket && this.send({ type: "auth", token }),
        () => socket.close(4001, "no token"),
      );
    };
    socket.onmessage = (ev) => {
      if (this.socket === socket && typeof ev.data === "string") this.handle(ev.data);
    };
    socket.onclose = (ev) => {
      if (this.socket === socket) this.closed(ev.code);
    };
    socket.onerror = () => undefined; // onclose follows and decides
  }

  private handle(data: string): void {
    const frame = parseFrame(data);
    if (frame === null) return;
    switch (frame.type) {
      case "ready":
        this.ready = true;
        this.attempt = 0;
        this.setState("connected");
        for (const channel of this.cursors.wanted) this.sendSubscribe(channel);
        return;
      case "subscribed": {
        const first = this.cursors.after(frame.channel) === null;
        this.cursors.subscribed(frame.channel, frame.cursor);
        // A first subscription starts "from now on": what came before is read over REST,
        // after the subscription, so nothing falls between the two.
        if (first) this.options.onReload?.(frame.channel);
        return;
      }
      case "reset":
        this.cursors.reset(frame.channel, frame.cursor);
        this.options.onReload?.(frame.channel);
        return;
      case "event":
        if (this.cursors.accept(frame.event, frame.cursor)) this.options.onEvent(frame.event, frame.cursor);
        return;
      case "error":
        if (frame.channel !== undefined && frame.code !== "already_subscribed") this.cursors.drop(frame.channel);
        this.options.onError?.(frame);
        return;
      case "unsubscribed":
        return;
    }
  }

  private closed(code: number): void {
    this.detach();
    this.cursors.disconnected();
    if (this.stopped) return;
    if (FATAL.has(code)) {
      this.setState("offline");
      return;
    }
    if (code === 4001) {
      const refresh = this.options.onUnauthenticated;
      this.setState("reconnecting");
      if (refresh === undefined) {
        this.setState("signed-out");
        return;
      }
      void refresh().then(
        (fresh) => (fresh ? this.scheduleRetry() : this.setState("signed-out")),
        () => this.setState("signed-out"),
      );
      return;
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    if (!this.online) {
      this.setState("offline");
      return;
    }
    this.setState("reconnecting");
    this.cancelRetry();
    const delay = backoffMs(this.attempt++, this.options.random);
    this.retry = this.timers.set(() => {
      this.retry = null;
      if (!this.stopped && this.socket === null) this.open();
    }, delay);
  }

  private cancelRetry(): void {
    if (this.retry !== null) this.timers.clear(this.retry);
    this.retry = null;
  }

  private detach(): void {
    const socket = this.socket;
    if (socket !== null) {
      socket.onopen = socket.onmessage = socket.onerror = null;
      socket.onclose = null;
    }
    this.socket = null;
    this.ready = false;
  }

  private sendSubscribe(channel: string): void {
    this.send({ type: "subscribe", channel, after: this.cursors.after(channel) });
  }

  private send(frame: ClientFrame): void {
    this.socket?.send(JSON.stringify(frame));
  }

  private setState(state: ConnectionState): void {
    if (state === this.current) return;
    this.current = state;
    this.options.onState?.(state);
  }
}
