// A conversation's timeline as pure functions: server snapshots and optimistic sends merged so
// that every message is shown once, in order, with the newest snapshot of it.

import type { MessageStatus, MessageView } from "../protocol/types";

export const LOCAL_PREFIX = "local:";

const RANK: Record<MessageStatus, number> = {
  received: 0,
  queued: 0,
  sent: 1,
  delivered: 2,
  read: 3,
  played: 4,
  failed: 5,
};

export function isLocal(message: MessageView): boolean {
  return message.id.startsWith(LOCAL_PREFIX);
}

/** Statuses only move forward (contracts/status.py): failed is terminal but does not undo a
 * delivery; otherwise the higher rank wins. */
export function nextStatus(current: MessageStatus, incoming: MessageStatus): MessageStatus {
  if (current === "failed") return current;
  if (incoming === "failed") return RANK[current] >= RANK.delivered ? current : incoming;
  return RANK[incoming] > RANK[current] ? incoming : current;
}

/** The snapshot to keep when two describe the same message. */
export function newer(kept: MessageView, incoming: MessageView): MessageView {
  if (isLocal(incoming) && !isLocal(kept)) return kept; // the server's copy always wins
  if (isLocal(kept) && !isLocal(incoming)) return incoming;
  const base = incoming.updated_at >= kept.updated_at ? incoming : kept;
  const status = nextStatus(kept.status, incoming.status);
  return status === base.status ? base : { ...base, status };
}

function sameMessage(a: MessageView, b: MessageView): boolean {
  if (a.id === b.id) return true;
  return Boolean(a.client_message_id) && a.client_message_id === b.client_message_id;
}

function byTime(a: MessageView, b: MessageView): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Oldest first, each message once (by id, or by client_message_id for optimistic ones). */
export function timeline(messages: Iterable<MessageView>): MessageView[] {
  const out: MessageView[] = [];
  for (const message of messages) {
    const at = out.findIndex((m) => sameMessage(m, message));
    if (at === -1) out.push(message);
    else out[at] = newer(out[at]!, message);
  }
  // Optimistic messages carry the browser's clock: keep them after the server's ones they
  // were sent after, and in the order they were typed.
  return out.sort((a, b) => {
    const la = isLocal(a);
    const lb = isLocal(b);
    if (la !== lb) return la ? 1 : -1;
    return byTime(a, b);
  });
}

export interface MessagePage {
  items: MessageView[]; // newest first, as GET /v1/conversations/{id}/messages answers
  next_before: string | null;
}

/** Puts a snapshot into paged history: replaces its older copy wherever it is, or adds it to
 * the newest page. Pages are otherwise untouched, so paging backwards keeps working. */
export function upsertIntoPages(pages: MessagePage[], message: MessageView): MessagePage[] {
  let found = false;
  const next = pages.map((page) => {
    const at = page.items.findIndex((m) => sameMessage(m, message));
    if (at === -1) return page;
    found = true;
    const items = page.items.slice();
    items[at] = newer(items[at]!, message);
    return { ...page, items };
  });
  if (found) return next;
  if (next.length === 0) return [{ items: [message], next_before: null }];
  const [first, ...rest] = next;
  return [{ ...first!, items: [message, ...first!.items] }, ...rest];
}

export function optimisticMessage(
  conversationId: string,
  clientMessageId: string,
  fields: Partial<MessageView>,
  now: Date = new Date(),
): MessageView {
  const at = now.toISOString();
  return {
    id: `${LOCAL_PREFIX}${clientMessageId}`,
    conversation_id: conversationId,
    direction: "outbound",
    type: "text",
    status: "queued",
    client_message_id: clientMessageId,
    created_at: at,
    updated_at: at,
    reactions: [],
    contacts: [],
    ...fields,
  };
}
