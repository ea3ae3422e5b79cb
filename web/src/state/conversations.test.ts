import { describe, expect, it } from "vitest";

import { conversation } from "../protocol/testing";
import { conversationList, matchesSearch, upsertConversation, type ConversationPage } from "./conversations";

describe("conversation list", () => {
  it("sorts by last activity and shows each conversation once, newest snapshot", () => {
    const pages = [
      { items: [conversation("a", { last_message_at: "2026-11-30T10:00:00Z" })], next_cursor: "x" },
      {
        items: [
          conversation("b", { last_message_at: "2026-11-30T09:00:00Z" }),
          conversation("a", { last_message_at: "2026-11-30T08:00:00Z", updated_at: "2026-11-30T08:00:00Z" }),
        ],
        next_cursor: null,
      },
    ];
    const list = conversationList(pages, "all");
    expect(list.map((c) => c.id)).toEqual(["a", "b"]);
  });

  it("moves a conversation with a new message to the top and drops a closed one from the open list", () => {
    let pages: ConversationPage[] = [{ items: [conversation("a"), conversation("b", { last_message_at: "2026-11-30T09:00:00Z" })], next_cursor: null }];
    pages = upsertConversation(
      pages,
      conversation("b", { last_message_at: "2026-11-30T12:00:00Z", updated_at: "2026-11-30T12:00:00Z", unread_count: 2 }),
      "open",
    );
    expect(conversationList(pages, "open").map((c) => [c.id, c.unread_count])).toEqual([
      ["b", 2],
      ["a", 0],
    ]);
    pages = upsertConversation(pages, conversation("a", { status: "closed", updated_at: "2026-11-30T13:00:00Z" }), "open");
    expect(conversationList(pages, "open").map((c) => c.id)).toEqual(["b"]);
  });

  it("a REST answer older than a live snapshot does not hide it", () => {
    const stale = { items: [conversation("a")], next_cursor: null };
    const live = {
      items: [conversation("b", { last_message_at: "2026-11-30T12:00:00Z", updated_at: "2026-11-30T12:00:00Z" })],
      next_cursor: null,
    };
    expect(conversationList([stale, live], "open").map((c) => c.id)).toEqual(["b", "a"]);
  });

  it("searches the contact's name without accents or case, and the number by digits", () => {
    const c = conversation("a", { contact_name: "José Álvares", contact_phone: "5511987654321" });
    expect(matchesSearch(c, "jose")).toBe(true);
    expect(matchesSearch(c, "ALVA")).toBe(true);
    expect(matchesSearch(c, "+55 11 9876")).toBe(true);
    expect(matchesSearch(c, "maria")).toBe(false);
    expect(matchesSearch(c, "")).toBe(true);
  });
});
