import { QueryClient, type InfiniteData } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";

import { applyEvent, keys } from "./live";
import { conversation, created, message } from "./protocol/testing";
import type { ConversationPage } from "./state/conversations";
import type { MessagePage } from "./state/messages";

function pages<T>(items: T[], next: string | null = null) {
  return { pages: [{ items, next_cursor: next, next_before: next }], pageParams: [null] };
}

describe("live events into the REST cache", () => {
  it("adds a message once, however often its snapshot arrives", () => {
    const client = new QueryClient();
    client.setQueryData(keys.messages("c1"), pages([message("m1", "c1")]));
    applyEvent(client, created(message("m2", "c1")));
    applyEvent(client, created(message("m2", "c1")));
    applyEvent(client, { type: "message.updated", message: message("m1", "c1", { status: "read", updated_at: "2026-11-30T11:00:00Z" }) });
    const data = client.getQueryData<InfiniteData<MessagePage>>(keys.messages("c1"))!;
    expect(data.pages[0]!.items.map((m) => [m.id, m.status])).toEqual([
      ["m2", "received"],
      ["m1", "read"],
    ]);
  });

  it("moves a conversation between the open and closed lists", () => {
    const client = new QueryClient();
    client.setQueryData(keys.conversations("open"), pages([conversation("a")]));
    client.setQueryData(keys.conversations("closed"), pages<ReturnType<typeof conversation>>([]));
    applyEvent(client, {
      type: "conversation.updated",
      conversation: conversation("a", { status: "closed", updated_at: "2026-11-30T12:00:00Z" }),
    });
    const open = client.getQueryData<InfiniteData<ConversationPage>>(keys.conversations("open"))!;
    const closed = client.getQueryData<InfiniteData<ConversationPage>>(keys.conversations("closed"))!;
    expect(open.pages[0]!.items).toEqual([]);
    expect(closed.pages[0]!.items.map((c) => c.id)).toEqual(["a"]);
    expect(client.getQueryData(keys.conversation("a"))).toMatchObject({ status: "closed" });
  });

  it("leaves conversations that were never loaded alone (they are read over REST when opened)", () => {
    const client = new QueryClient();
    applyEvent(client, created(message("m1", "unseen")));
    expect(client.getQueryData(keys.messages("unseen"))).toBeUndefined();
  });
});
