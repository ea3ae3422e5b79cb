import { describe, expect, it } from "vitest";

import { RealtimeConnection, type ConnectionState } from "./connection";
import { conversation, created, FakeSocket, ManualTimers, message } from "./testing";
import type { RealtimeEvent } from "./types";

function setup(token = "jwt-1") {
  const sockets: FakeSocket[] = [];
  const timers = new ManualTimers();
  const events: Array<[RealtimeEvent, number]> = [];
  const states: ConnectionState[] = [];
  const reloads: string[] = [];
  let current = token;
  const connection = new RealtimeConnection({
    url: "ws://gateway/v1/ws",
    token: () => Promise.resolve(current),
    onEvent: (event, cursor) => events.push([event, cursor]),
    onState: (s) => states.push(s),
    onReload: (channel) => reloads.push(channel),
    onUnauthenticated: () => {
      current = "jwt-2";
      return Promise.resolve(true);
    },
    createSocket: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
    timers,
    random: () => 0.5,
  });
  const last = () => sockets[sockets.length - 1]!;
  return { connection, sockets, timers, events, states, reloads, last };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

async function handshake(socket: FakeSocket, cursor = 100) {
  socket.open();
  await tick();
  socket.frame({ type: "ready", tenant_id: "t", user_id: "agent", role: "agent", cursor });
}

describe("RealtimeConnection", () => {
  it("authenticates with the first frame, then subscribes from now on and reloads over REST", async () => {
    const t = setup();
    t.connection.subscribe("inbox");
    t.connection.start();
    await handshake(t.last());
    expect(t.last().sent).toEqual([
      { type: "auth", token: "jwt-1" },
      { type: "subscribe", channel: "inbox", after: null },
    ]);
    t.last().frame({ type: "subscribed", channel: "inbox", cursor: 100 });
    expect(t.reloads).toEqual(["inbox"]);
    expect(t.states.at(-1)).toBe("connected");
  });

  it("after a drop reconnects with backoff and resumes every channel from its own cursor", async () => {
    const t = setup();
    t.connection.subscribe("inbox");
    t.connection.subscribe("conversation:a");
    t.connection.start();
    await handshake(t.last());
    t.last().frame({ type: "subscribed", channel: "inbox", cursor: 100 });
    t.last().frame({ type: "subscribed", channel: "conversation:a", cursor: 100 });
    t.last().frame({ type: "event", cursor: 103, event: created(message("m1", "a")) });
    t.last().frame({ type: "event", cursor: 107, event: { type: "conversation.updated", conversation: conversation("b") } });
    t.last().drop(1006);
    expect(t.states.at(-1)).toBe("reconnecting");
    expect(t.timers.pending).toBe(1);
    t.timers.runAll();
    expect(t.sockets).toHaveLength(2);
    await handshake(t.last(), 120);
    expect(t.last().sent.slice(1)).toEqual([
      { type: "subscribe", channel: "inbox", after: 107 },
      { type: "subscribe", channel: "conversation:a", after: 103 },
    ]);
    // The replay: what was missed comes once; what was already seen is dropped.
    t.last().frame({ type: "subscribed", channel: "conversation:a", cursor: 120 });
    t.last().frame({ type: "event", cursor: 103, event: created(message("m1", "a")) });
    t.last().frame({ type: "event", cursor: 110, event: created(message("m2", "a")) });
    t.last().frame({ type: "event", cursor: 110, event: created(message("m2", "a")) });
    expect(t.events.map(([, c]) => c)).toEqual([103, 107, 110]);
    expect(t.reloads).toEqual(["inbox", "conversation:a"]); // resume needs no reload
  });

  it("a reset reloads the channel and continues after its cursor", async () => {
    const t = setup();
    t.connection.subscribe("inbox");
    t.connection.start();
    await handshake(t.last());
    t.last().frame({ type: "subscribed", channel: "inbox", cursor: 100 });
    t.last().frame({ type: "reset", channel: "inbox", cursor: 900 });
    t.last().frame({ type: "event", cursor: 800, event: { type: "conversation.updated", conversation: conversation("b") } });
    t.last().frame({ type: "event", cursor: 901, event: { type: "conversation.updated", conversation: conversation("b") } });
    expect(t.reloads).toEqual(["inbox", "inbox"]);
    expect(t.events.map(([, c]) => c)).toEqual([901]);
  });

  it("a rejected token (4001) asks for a fresh one and reconnects with it", async () => {
    const t = setup();
    t.connection.subscribe("inbox");
    t.connection.start();
    t.last().open();
    await tick();
    t.last().drop(4001);
    await tick();
    t.timers.runAll();
    await handshake(t.last());
    expect(t.last().sent[0]).toEqual({ type: "auth", token: "jwt-2" });
  });

  it("goes offline when the browser says so and reconnects at once when it is back", async () => {
    const t = setup();
    t.connection.subscribe("inbox");
    t.connection.start();
    await handshake(t.last());
    t.last().frame({ type: "subscribed", channel: "inbox", cursor: 100 });
    const first = t.last();
    t.connection.setOnline(false);
    expect(first.closed).not.toBeNull();
    expect(t.states.at(-1)).toBe("offline");
    expect(t.timers.pending).toBe(0);
    t.connection.setOnline(true);
    expect(t.sockets).toHaveLength(2);
    await handshake(t.last(), 150);
    expect(t.last().sent[1]).toEqual({ type: "subscribe", channel: "inbox", after: 100 });
  });

  it("does not reconnect after a protocol error or after stop()", async () => {
    const t = setup();
    t.connection.start();
    await handshake(t.last());
    t.last().drop(4400);
    expect(t.timers.pending).toBe(0);
    const u = setup();
    u.connection.start();
    u.connection.stop();
    expect(u.timers.pending).toBe(0);
    expect(u.last().closed?.code).toBe(1000);
  });

  it("a channel refused by the gateway is forgotten, not resubscribed on reconnect", async () => {
    const t = setup();
    t.connection.subscribe("conversation:gone");
    t.connection.start();
    await handshake(t.last());
    t.last().frame({ type: "error", code: "not_found", message: "no such conversation", channel: "conversation:gone" });
    expect(t.connection.cursors.has("conversation:gone")).toBe(false);
  });
});
