// Messages the agent sent that the server has not confirmed yet, keyed by client_message_id.
// They are merged into the timeline (state/messages.ts `timeline`), where the server's copy
// replaces them as soon as it is seen: a message is never shown twice.

import type { MessageView } from "../protocol/types";
import type { SendBody } from "../api/rest";

export interface Pending {
  message: MessageView; // the optimistic snapshot shown
  body: SendBody; // what to POST again on retry (the same client_message_id)
}

type Listener = () => void;

export class Outbox {
  private items = new Map<string, Pending>();
  private readonly listeners = new Set<Listener>();
  private version = 0;

  add(pending: Pending): void {
    this.items.set(pending.body.client_message_id, pending);
    this.changed();
  }

  /** The POST failed before the server took the message: show why, offer a retry. */
  failed(clientMessageId: string, reason: string): void {
    const pending = this.items.get(clientMessageId);
    if (pending === undefined) return;
    this.items.set(clientMessageId, {
      ...pending,
      message: { ...pending.message, status: "failed", error_code: "not_sent", error_reason: reason },
    });
    this.changed();
  }

  retrying(clientMessageId: string): Pending | undefined {
    const pending = this.items.get(clientMessageId);
    if (pending === undefined) return undefined;
    const message: MessageView = { ...pending.message, status: "queued", error_code: null, error_reason: null };
    this.items.set(clientMessageId, { ...pending, message });
    this.changed();
    return pending;
  }

  /** The server has it (answer or live event): the optimistic copy can go. */
  confirmed(clientMessageId: string): void {
    if (this.items.delete(clientMessageId)) this.changed();
  }

  of(conversationId: string): MessageView[] {
    return [...this.items.values()]
      .filter((p) => p.message.conversation_id === conversationId)
      .map((p) => p.message);
  }

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = (): number => this.version;

  private changed(): void {
    this.version += 1;
    for (const listener of this.listeners) listener();
  }
}
