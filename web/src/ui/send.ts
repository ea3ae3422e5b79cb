import { useQueryClient, type InfiniteData } from "@tanstack/react-query";
import { useCallback } from "react";

import type { SendBody, SendContent } from "../api/rest";
import { keys } from "../live";
import type { MessageView } from "../protocol/types";
import { optimisticMessage, upsertIntoPages, type MessagePage } from "../state/messages";
import { useInbox } from "./context";

function preview(content: SendContent): Partial<MessageView> {
  switch (content.kind) {
    case "text":
      return { type: "text", text: content.body };
    case "media":
      return {
        type: content.media_type,
        caption: content.caption ?? null,
        media: { state: "stored", mime: content.mime, filename: content.filename ?? null },
      };
    case "template":
      return { type: "template", text: `Template ${content.name}` };
    case "reaction":
      return { type: "reaction", text: content.emoji };
  }
}

/** Sends with an optimistic copy shown at once as queued; the same client_message_id is used
 * for a retry, so the gateway never queues it twice. */
export function useSend(conversationId: string) {
  const { api, outbox } = useInbox();
  const client = useQueryClient();

  const post = useCallback(
    (body: SendBody) => {
      api.send(conversationId, body).then(
        (message) => {
          client.setQueryData<InfiniteData<MessagePage, string | null>>(keys.messages(conversationId), (data) =>
            data === undefined ? data : { ...data, pages: upsertIntoPages(data.pages, message) },
          );
          outbox.confirmed(body.client_message_id);
        },
        (error: Error) => outbox.failed(body.client_message_id, error.message),
      );
    },
    [api, client, conversationId, outbox],
  );

  const send = useCallback(
    (content: SendContent, replyTo: string | null = null) => {
      const body: SendBody = { client_message_id: crypto.randomUUID(), content, reply_to_message_id: replyTo };
      if (content.kind !== "reaction") {
        const message = optimisticMessage(conversationId, body.client_message_id, {
          ...preview(content),
          reply_to_message_id: replyTo,
        });
        outbox.add({ message, body });
      }
      post(body);
    },
    [conversationId, outbox, post],
  );

  const retry = useCallback(
    (message: MessageView) => {
      const cmid = message.client_message_id;
      if (!cmid) return;
      const pending = outbox.retrying(cmid);
      if (pending !== undefined) post(pending.body);
    },
    [outbox, post],
  );

  return { send, retry };
}
