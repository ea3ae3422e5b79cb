// Per-channel resume cursors, mirroring the gateway's session (services/realtime/session.py):
// a channel is "live" once its `subscribed` frame arrived (the gateway pushes `subscribed` and
// the whole replay at once, so every frame after it was sent while the channel was live).
// An event frame is new when it moves the cursor of at least one live channel it belongs to;
// otherwise it is a duplicate (an event on two channels can come twice while one replays).

import { channelsOf, type RealtimeEvent } from "./types";

interface Channel {
  last: number | null; // the last cursor seen on this channel; null: never subscribed yet
  live: boolean; // `subscribed` received on the current connection
}

export class CursorBook {
  private readonly channels = new Map<string, Channel>();

  /** Channels the client wants, in the order they were asked for. */
  get wanted(): string[] {
    return [...this.channels.keys()];
  }

  want(channel: string): boolean {
    if (this.channels.has(channel)) return false;
    this.channels.set(channel, { last: null, live: false });
    return true;
  }

  drop(channel: string): void {
    this.channels.delete(channel);
  }

  has(channel: string): boolean {
    return this.channels.has(channel);
  }

  /** The `after` to subscribe with: the last cursor seen, or null for "from now on". */
  after(channel: string): number | null {
    return this.channels.get(channel)?.last ?? null;
  }

  isLive(channel: string): boolean {
    return this.channels.get(channel)?.live ?? false;
  }

  /** The connection dropped: every channel must be subscribed again (and replay). */
  disconnected(): void {
    for (const channel of this.channels.values()) channel.live = false;
  }

  /** `subscribed` with the gateway's cursor; a first subscription starts from it. */
  subscribed(channel: string, cursor: number): void {
    const state = this.channels.get(channel);
    if (state === undefined) return;
    state.live = true;
    if (state.last === null) state.last = cursor;
  }

  /** `reset`: the client reloads the channel over REST and continues after `cursor`. */
  reset(channel: string, cursor: number): void {
    const state = this.channels.get(channel);
    if (state !== undefined) state.last = cursor;
  }

  /** True when the event is new to at least one live channel (and moves its cursor). */
  accept(event: RealtimeEvent, cursor: number): boolean {
    let fresh = false;
    for (const name of channelsOf(event)) {
      const state = this.channels.get(name);
      if (state === undefined || !state.live) continue;
      if (state.last === null || cursor > state.last) {
        state.last = cursor;
        fresh = true;
      }
    }
    return fresh;
  }

  snapshot(): Record<string, number | null> {
    return Object.fromEntries([...this.channels].map(([name, s]) => [name, s.last]));
  }
}
