import { describe, expect, it } from "vitest";

import { CursorBook } from "./cursors";
import { conversation, created, message } from "./testing";

const convUpdated = (id: string) => ({ type: "conversation.updated" as const, conversation: conversation(id) });

describe("CursorBook", () => {
  it("starts a first subscription from the gateway's cursor", () => {
    const book = new CursorBook();
    book.want("inbox");
    expect(book.after("inbox")).toBeNull();
    book.subscribed("inbox", 40);
    expect(book.after("inbox")).toBe(40);
  });

  it("accepts increasing cursors once and drops repeats and older ones", () => {
    const book = new CursorBook();
    book.want("conversation:a");
    book.subscribed("conversation:a", 10);
    const ev = created(message("m1", "a"));
    expect(book.accept(ev, 11)).toBe(true);
    expect(book.accept(ev, 11)).toBe(false);
    expect(book.accept(ev, 9)).toBe(false);
    expect(book.accept(ev, 15)).toBe(true);
    expect(book.after("conversation:a")).toBe(15);
  });

  it("keeps a cursor per channel: events of other conversations do not move it", () => {
    const book = new CursorBook();
    book.want("conversation:a");
    book.want("conversation:b");
    book.subscribed("conversation:a", 5);
    book.subscribed("conversation:b", 5);
    expect(book.accept(created(message("x", "b")), 20)).toBe(true);
    expect(book.after("conversation:a")).toBe(5);
    expect(book.after("conversation:b")).toBe(20);
  });

  it("resumes after a disconnect from the last cursor, ignoring events until resubscribed", () => {
    const book = new CursorBook();
    book.want("inbox");
    book.subscribed("inbox", 3);
    expect(book.accept(convUpdated("a"), 7)).toBe(true);
    book.disconnected();
    // A frame for a channel that is not live yet is not counted for it.
    expect(book.accept(convUpdated("a"), 9)).toBe(false);
    expect(book.after("inbox")).toBe(7);
    book.subscribed("inbox", 12);
    expect(book.after("inbox")).toBe(7); // the replay (7, 12] follows
    expect(book.accept(convUpdated("a"), 8)).toBe(true);
    expect(book.accept(convUpdated("a"), 8)).toBe(false);
  });

  it("counts an event on two live channels once, and its second copy during a replay as a duplicate only where seen", () => {
    const book = new CursorBook();
    book.want("inbox");
    book.subscribed("inbox", 1);
    book.want("conversation:a");
    // conversation:a not acknowledged yet: the event moves the inbox only.
    expect(book.accept(convUpdated("a"), 5)).toBe(true);
    book.subscribed("conversation:a", 5);
    expect(book.after("conversation:a")).toBe(5);
    // Both live: one frame moves both cursors; the same cursor again is a duplicate.
    expect(book.accept(convUpdated("a"), 6)).toBe(true);
    expect(book.snapshot()).toEqual({ inbox: 6, "conversation:a": 6 });
    expect(book.accept(convUpdated("a"), 6)).toBe(false);
  });

  it("moves to the reset cursor (the state is reloaded over REST)", () => {
    const book = new CursorBook();
    book.want("inbox");
    book.subscribed("inbox", 10);
    book.reset("inbox", 900);
    expect(book.after("inbox")).toBe(900);
    expect(book.accept(convUpdated("a"), 500)).toBe(false);
  });
});
