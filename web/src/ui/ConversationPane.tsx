import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore } from "react";

import { applyConversation, keys } from "../live";
import type { MessageView } from "../protocol/types";
import { timeline } from "../state/messages";
import { Composer } from "./Composer";
import { useInbox } from "./context";
import { dayLabel, displayName, initials, phone } from "./format";
import { MessageBubble } from "./MessageBubble";
import { Icon } from "./Icon";

export function ConversationPane({ id, onBack }: { id: string; onBack: () => void }) {
  const { api, connection, outbox, seen, me } = useInbox();
  const client = useQueryClient();
  const [replyTo, setReplyTo] = useState<MessageView | null>(null);

  useEffect(() => {
    const channel = `conversation:${id}`;
    connection.subscribe(channel);
    return () => connection.unsubscribe(channel);
  }, [connection, id]);

  const conversation = useQuery({ queryKey: keys.conversation(id), queryFn: () => api.conversation(id) });
  const history = useInfiniteQuery({
    queryKey: keys.messages(id),
    queryFn: ({ pageParam }) => api.messages(id, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_before,
  });
  useSyncExternalStore(outbox.subscribe, outbox.snapshot);
  useSyncExternalStore(seen.subscribe, seen.snapshot);
  // History pages, then live snapshots (newer than a REST answer that was in flight), then
  // unconfirmed sends: timeline() keeps one entry per message, the newest.
  const messages = timeline([
    ...(history.data?.pages ?? []).flatMap((p) => p.items),
    ...seen.messagesOf(id),
    ...outbox.of(id),
  ]);

  const change = useMutation({
    mutationFn: (changes: { status?: "open" | "closed"; assignee?: string | null }) => api.patch(id, changes),
    onSuccess: (view) => applyConversation(client, view),
  });
  const markRead = useMutation({
    mutationFn: () => api.markRead(id),
    onSuccess: (view) => applyConversation(client, view),
  });

  // Reading the conversation marks it read (and the customer sees the blue ticks).
  // The newest of the REST answer and the live snapshot (either may be the later one).
  const live = seen.conversationById(id);
  const fetched = conversation.data;
  const view = fetched && live ? (live.updated_at > fetched.updated_at ? live : fetched) : (fetched ?? live);
  const unread = view?.unread_count ?? 0;
  const { mutate: mark, isPending: marking } = markRead;
  useEffect(() => {
    if (unread > 0 && !marking && document.visibilityState === "visible") mark();
  }, [unread, marking, mark]);

  // Keep the newest message in view as messages arrive, unless the agent scrolled up to read.
  const scroller = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  const last = messages.at(-1);
  useLayoutEffect(() => {
    const node = scroller.current;
    if (node !== null && pinned.current) node.scrollTop = node.scrollHeight;
  }, [last?.id, last?.status, messages.length]);

  // Older history loads when the top of the timeline scrolls into view; the position holds.
  const top = useRef<HTMLDivElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = history;
  useEffect(() => {
    const node = top.current;
    const box = scroller.current;
    if (node === null || box === null || !hasNextPage) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (!entries.some((e) => e.isIntersecting) || isFetchingNextPage) return;
        const fromBottom = box.scrollHeight - box.scrollTop;
        void fetchNextPage().then(() => requestAnimationFrame(() => (box.scrollTop = box.scrollHeight - fromBottom)));
      },
      { root: box },
    );
    observer.observe(node);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const name = view ? displayName(view.contact_name, view.contact_phone) : "";
  const byId = new Map(messages.map((m) => [m.id, m]));

  return (
    <section className="conversation-pane" aria-label={name ? `Conversation with ${name}` : "Conversation"}>
      <header className="pane-header">
        <button type="button" className="icon back" onClick={onBack} aria-label="Back to conversations">
          <Icon name="back" />
        </button>
        {view && (
          <>
            <span className="avatar" aria-hidden="true">
              {initials(name)}
            </span>
            <div className="pane-title">
              <h2>{name}</h2>
              <p>
                {phone(view.contact_phone)} · {view.provider}
                {view.assignee && <> · assigned to {view.assignee === me ? "you" : view.assignee}</>}
              </p>
            </div>
            <div className="pane-actions">
              {view.assignee !== me && (
                <button type="button" onClick={() => change.mutate({ assignee: me })} disabled={change.isPending}>
                  Assign to me
                </button>
              )}
              {view.status === "open" ? (
                <button type="button" onClick={() => change.mutate({ status: "closed" })} disabled={change.isPending}>
                  Close
                </button>
              ) : (
                <button type="button" onClick={() => change.mutate({ status: "open" })} disabled={change.isPending}>
                  Reopen
                </button>
              )}
              <button
                type="button"
                onClick={() => markRead.mutate()}
                disabled={markRead.isPending || view.unread_count === 0}
                title="Mark read"
              >
                Mark read
              </button>
            </div>
          </>
        )}
      </header>
      {(change.isError || conversation.isError) && (
        <p className="banner error" role="alert">
          {change.error?.message ?? conversation.error?.message}
        </p>
      )}
      <div
        className="timeline"
        ref={scroller}
        onScroll={(e) => {
          const box = e.currentTarget;
          pinned.current = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
        }}
        role="log"
        aria-label="Messages"
        aria-live="polite"
      >
        <div ref={top} className="timeline-top">
          {hasNextPage ? (isFetchingNextPage ? "Loading earlier messages…" : "") : history.isSuccess && "Start of the conversation"}
        </div>
        {history.isPending && <p className="list-note">Loading messages…</p>}
        {history.isError && (
          <p className="list-note error" role="alert">
            Could not load messages: {history.error.message}
          </p>
        )}
        {messages.map((m, i) => {
          const prev = messages[i - 1];
          const newDay = prev === undefined || dayLabel(prev.created_at) !== dayLabel(m.created_at);
          return (
            <div key={m.client_message_id ? `c:${m.client_message_id}` : m.id}>
              {newDay && (
                <div className="day-divider" role="separator">
                  <span>{dayLabel(m.created_at)}</span>
                </div>
              )}
              <MessageBubble
                message={m}
                quoted={m.reply_to_message_id ? byId.get(m.reply_to_message_id) : undefined}
                onReply={() => setReplyTo(m)}
              />
            </div>
          );
        })}
      </div>
      {view && (
        <Composer conversation={view} replyTo={replyTo} onReplyDone={() => setReplyTo(null)} onSent={() => (pinned.current = true)} />
      )}
    </section>
  );
}
