// The conversation list as pure functions: live snapshots merged into the paged list, sorted by
// last activity, filtered by status and by a search over contact name and number.

import type { ConversationView } from "../protocol/types";

export type StatusFilter = "open" | "closed" | "all";

export interface ConversationPage {
  items: ConversationView[];
  next_cursor: string | null;
}

function activity(c: ConversationView): string {
  return c.last_message_at ?? c.updated_at;
}

export function byActivity(a: ConversationView, b: ConversationView): number {
  const x = activity(a);
  const y = activity(b);
  if (x !== y) return x > y ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function matchesStatus(c: ConversationView, filter: StatusFilter): boolean {
  return filter === "all" || c.status === filter;
}

/** Case- and accent-insensitive match on the contact's name; digits match the number. */
export function matchesSearch(c: ConversationView, query: string): boolean {
  const q = fold(query.trim());
  if (q === "") return true;
  if (fold(c.contact_name ?? "").includes(q)) return true;
  const digits = q.replace(/[^0-9]/g, "");
  return digits.length > 0 && (c.contact_phone ?? "").replace(/[^0-9]/g, "").includes(digits);
}

function fold(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

/** Every conversation once (the newest snapshot), most recent activity first. */
export function conversationList(pages: ConversationPage[], filter: StatusFilter, query = ""): ConversationView[] {
  const byId = new Map<string, ConversationView>();
  for (const page of pages) {
    for (const c of page.items) {
      const kept = byId.get(c.id);
      if (kept === undefined || c.updated_at >= kept.updated_at) byId.set(c.id, c);
    }
  }
  return [...byId.values()]
    .filter((c) => matchesStatus(c, filter) && matchesSearch(c, query))
    .sort(byActivity);
}

/** A live snapshot into the paged list: the older copy goes, the new one joins the first page
 * if it still matches the list's filter (a closed conversation leaves the "open" list). */
export function upsertConversation(
  pages: ConversationPage[],
  conversation: ConversationView,
  filter: StatusFilter,
): ConversationPage[] {
  let older: ConversationView | undefined;
  const without = pages.map((page) => {
    const at = page.items.findIndex((c) => c.id === conversation.id);
    if (at === -1) return page;
    older = page.items[at];
    return { ...page, items: page.items.filter((c) => c.id !== conversation.id) };
  });
  const latest = older !== undefined && older.updated_at > conversation.updated_at ? older : conversation;
  if (!matchesStatus(latest, filter)) return without;
  if (without.length === 0) return [{ items: [latest], next_cursor: null }];
  const [first, ...rest] = without;
  return [{ ...first!, items: [latest, ...first!.items] }, ...rest];
}
