// Test doubles for the connection's unit tests: a socket the test drives and manual timers.

import type { SocketLike, Timers } from "./connection";
import type { ConversationView, MessageView, RealtimeEvent } from "./types";

export class FakeSocket implements SocketLike {
  sent: Array<Record<string, unknown>> = [];
  closed: { code?: number; reason?: string } | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
  }
  // The gateway's side:
  open(): void {
    this.onopen?.({});
  }
  frame(value: unknown): void {
    this.onmessage?.({ data: JSON.stringify(value) });
  }
  drop(code = 1006): void {
    this.onclose?.({ code, reason: "" });
  }
}

export class ManualTimers implements Timers {
  private queue: Array<{ fn: () => void; ms: number; id: number }> = [];
  private next = 1;
  set(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.queue.push({ fn, ms, id });
    return id;
  }
  clear(handle: unknown): void {
    this.queue = this.queue.filter((t) => t.id !== handle);
  }
  get pending(): number {
    return this.queue.length;
  }
  runAll(): void {
    const due = this.queue;
    this.queue = [];
    for (const t of due) t.fn();
  }
}

export function message(id: string, conversation: string, fields: Partial<MessageView> = {}): MessageView {
  return {
    id,
    conversation_id: conversation,
    direction: "inbound",
    type: "text",
    status: "received",
    text: id,
    created_at: "2026-11-30T10:00:00Z",
    updated_at: "2026-11-30T10:00:00Z",
    ...fields,
  };
}

export function conversation(id: string, fields: Partial<ConversationView> = {}): ConversationView {
  return {
    id,
    integration_id: "i",
    provider: "meta",
    contact_id: `contact-${id}`,
    status: "open",
    unread_count: 0,
    updated_at: "2026-11-30T10:00:00Z",
    last_message_at: "2026-11-30T10:00:00Z",
    ...fields,
  };
}

export function created(m: MessageView): RealtimeEvent {
  return { type: "message.created", message: m };
}
