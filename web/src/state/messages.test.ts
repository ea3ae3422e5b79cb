import { describe, expect, it } from "vitest";

import { message } from "../protocol/testing";
import { nextStatus, optimisticMessage, timeline, upsertIntoPages } from "./messages";

describe("timeline", () => {
  it("shows an optimistic send once: the server's copy with the same client_message_id replaces it", () => {
    const local = optimisticMessage("c", "cm-1", { text: "hi" }, new Date("2026-11-30T10:05:00Z"));
    const server = message("srv-1", "c", { direction: "outbound", status: "sent", client_message_id: "cm-1", text: "hi" });
    const shown = timeline([message("in-1", "c"), local, server]);
    expect(shown.map((m) => m.id)).toEqual(["in-1", "srv-1"]);
  });

  it("keeps the newest snapshot and never moves a status backwards", () => {
    const sent = message("m", "c", { status: "read", updated_at: "2026-11-30T10:02:00Z" });
    const late = message("m", "c", { status: "delivered", updated_at: "2026-11-30T10:01:00Z" });
    expect(timeline([sent, late])[0]!.status).toBe("read");
    expect(nextStatus("queued", "failed")).toBe("failed");
    expect(nextStatus("delivered", "failed")).toBe("delivered");
    expect(nextStatus("failed", "read")).toBe("failed");
  });

  it("orders by time, optimistic sends last", () => {
    const a = message("a", "c", { created_at: "2026-11-30T10:00:02Z" });
    const b = message("b", "c", { created_at: "2026-11-30T10:00:01Z" });
    const local = optimisticMessage("c", "x", {}, new Date("2026-11-30T09:00:00Z"));
    expect(timeline([a, local, b]).map((m) => m.id)).toEqual(["b", "a", "local:x"]);
  });
});

describe("upsertIntoPages", () => {
  it("replaces a message where it is and adds new ones to the newest page", () => {
    const pages = [
      { items: [message("b", "c")], next_before: "p2" },
      { items: [message("a", "c")], next_before: null },
    ];
    const updated = upsertIntoPages(pages, message("a", "c", { text: "edited", updated_at: "2026-11-30T11:00:00Z" }));
    expect(updated[1]!.items[0]!.text).toBe("edited");
    const added = upsertIntoPages(updated, message("c", "c"));
    expect(added[0]!.items.map((m) => m.id)).toEqual(["c", "b"]);
    expect(added[0]!.next_before).toBe("p2");
  });
});
