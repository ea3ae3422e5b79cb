// Live updates into the REST cache: the websocket's snapshots are merged into the same
// TanStack Query entries the screens read, so a list or a timeline never shows a message twice.

import type { InfiniteData, QueryClient } from "@tanstack/react-query";

import { RealtimeConnection, type ConnectionState } from "./protocol/connection";
import type { ConversationView, RealtimeEvent } from "./protocol/types";
import { upsertConversation, type ConversationPage, type StatusFilter } from "./state/conversations";
import { upsertIntoPages, type MessagePage } from "./state/messages";
import type { Seen } from "./state/seen";

export const keys = {
  conversations: (filter: StatusFilter) => ["conversations", filter] as const,
  conversation: (id: string) => ["conversation", id] as const,
  messages: (id: string) => ["messages", id] as const,
  media: (messageId: string) => ["media", messageId] as const,
};

export function applyConversation(client: QueryClient, conversation: ConversationView): void {
  for (const filter of ["open", "closed", "all"] as const) {
    client.setQueryData<InfiniteData<ConversationPage, string | null>>(keys.conversations(filter), (data) =>
      data === undefined ? data : { ...data, pages: upsertConversation(data.pages, conversation, filter) },
    );
  }
  client.setQueryData<ConversationView>(keys.conversation(conversation.id), (kept) =>
    kept !== undefined && kept.updated_at > conversation.updated_at ? kept : conversation,
  );
}

export function applyEvent(client: QueryClient, event: RealtimeEvent): void {
  if (event.type === "conversation.updated") {
    applyConversation(client, event.conversation);
    return;
  }
  const message = event.message;
  client.setQueryData<InfiniteData<MessagePage, string | null>>(keys.messages(message.conversation_id), (data) =>
    data === undefined ? data : { ...data, pages: upsertIntoPages(data.pages, message) },
  );
}

export function connectLive(options: {
  client: QueryClient;
  url: string;
  token: () => Promise<string>;
  refreshToken: () => Promise<boolean>;
  onState: (state: ConnectionState) => void;
  seen: Seen;
}): RealtimeConnection {
  const { client } = options;
  const connection = new RealtimeConnection({
    url: options.url,
    token: options.token,
    onState: options.onState,
    onUnauthenticated: options.refreshToken,
    onEvent: (event) => {
      if (event.type === "conversation.updated") options.seen.conversation(event.conversation);
      else options.seen.message(event.message);
      applyEvent(client, event);
    },
    onReload: (channel) => {
      if (channel === "inbox") void client.invalidateQueries({ queryKey: ["conversations"] });
      else {
        const id = channel.slice("conversation:".length);
        void client.invalidateQueries({ queryKey: keys.messages(id) });
        void client.invalidateQueries({ queryKey: keys.conversation(id) });
      }
    },
  });
  connection.subscribe("inbox");
  return connection;
}
