import { useInfiniteQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState, useSyncExternalStore, type KeyboardEvent } from "react";

import { keys } from "../live";
import { conversationList, type StatusFilter } from "../state/conversations";
import { useInbox } from "./context";
import { displayName, initials, phone, timeLabel } from "./format";

const FILTERS: Array<{ value: StatusFilter; label: string }> = [
  { value: "open", label: "Open" },
  { value: "closed", label: "Closed" },
  { value: "all", label: "All" },
];

export function ConversationList({ selected, onOpen }: { selected: string | null; onOpen: (id: string) => void }) {
  const { api, me, seen } = useInbox();
  const [filter, setFilter] = useState<StatusFilter>("open");
  const [query, setQuery] = useState("");
  const list = useInfiniteQuery({
    queryKey: keys.conversations(filter),
    queryFn: ({ pageParam }) => api.conversations(filter, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
  useSyncExternalStore(seen.subscribe, seen.snapshot);
  // Live snapshots over the pages: the newest copy of each conversation wins.
  const live = { items: seen.allConversations(), next_cursor: null };
  const items = conversationList(list.data ? [...list.data.pages, live] : [], filter, query);

  // Endless scroll: the sentinel at the end of the list loads the next page when it shows.
  const sentinel = useRef<HTMLLIElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  useEffect(() => {
    const node = sentinel.current;
    if (node === null || !hasNextPage) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  // Arrow keys move between conversations, as in a mail client.
  const onKeyDown = (event: KeyboardEvent<HTMLUListElement>) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const buttons = [...event.currentTarget.querySelectorAll<HTMLButtonElement>("button.conversation")];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const next = buttons[Math.max(0, Math.min(buttons.length - 1, at + (event.key === "ArrowDown" ? 1 : -1)))];
    next?.focus();
    event.preventDefault();
  };

  return (
    <div className="conversation-list">
      <div className="list-tools">
        <label className="search">
          <span className="visually-hidden">Search by name or number</span>
          <input
            type="search"
            placeholder="Search name or number"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
        </label>
        <div className="filters" role="radiogroup" aria-label="Show conversations">
          {FILTERS.map((f) => (
            <button
              key={f.value}
              type="button"
              role="radio"
              aria-checked={filter === f.value}
              className={filter === f.value ? "chip active" : "chip"}
              onClick={() => setFilter(f.value)}
            >
              {f.label}
            </button>
          ))}
        </div>
      </div>
      {list.isError && (
        <p className="list-note error" role="alert">
          Could not load conversations: {list.error.message}{" "}
          <button type="button" className="link" onClick={() => void list.refetch()}>
            Try again
          </button>
        </p>
      )}
      {list.isPending && <p className="list-note">Loading conversations…</p>}
      {list.isSuccess && items.length === 0 && (
        <p className="list-note">{query ? "No conversation matches." : "No conversations here yet."}</p>
      )}
      <ul className="conversations" onKeyDown={onKeyDown} aria-label="Conversation list">
        {items.map((c) => {
          const name = displayName(c.contact_name, c.contact_phone);
          return (
            <li key={c.id}>
              <button
                type="button"
                className={`conversation ${c.id === selected ? "selected" : ""} ${c.unread_count > 0 ? "unread" : ""}`}
                aria-current={c.id === selected ? "true" : undefined}
                data-conversation-id={c.id}
                onClick={() => onOpen(c.id)}
              >
                <span className="avatar" aria-hidden="true">
                  {initials(name)}
                </span>
                <span className="conversation-main">
                  <span className="conversation-top">
                    <span className="conversation-name">{name}</span>
                    <time className="conversation-time" dateTime={c.last_message_at ?? undefined}>
                      {timeLabel(c.last_message_at)}
                    </time>
                  </span>
                  <span className="conversation-bottom">
                    <span className="conversation-preview">{c.last_message_preview ?? phone(c.contact_phone)}</span>
                    {c.unread_count > 0 && (
                      <span className="unread-count" aria-label={`${c.unread_count} unread`}>
                        {c.unread_count}
                      </span>
                    )}
                  </span>
                  <span className="conversation-meta">
                    <span className={`provider provider-${c.provider}`}>{c.provider}</span>
                    {c.status === "closed" && <span className="tag">closed</span>}
                    {c.assignee && <span className="tag assignee">{c.assignee === me ? "You" : c.assignee}</span>}
                  </span>
                </span>
              </button>
            </li>
          );
        })}
        {hasNextPage && (
          <li ref={sentinel} className="list-note">
            Loading more…
          </li>
        )}
      </ul>
    </div>
  );
}
