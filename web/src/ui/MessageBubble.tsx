import { useState } from "react";

import type { MessageStatus, MessageView } from "../protocol/types";
import { clock } from "./format";
import { DocumentDownload, InlineMedia } from "./Media";
import { useSend } from "./send";
import { Icon } from "./Icon";

const TICKS: Record<MessageStatus, { mark: string; label: string }> = {
  queued: { mark: "", label: "queued" },
  sent: { mark: "✓", label: "sent" },
  delivered: { mark: "✓✓", label: "delivered" },
  read: { mark: "✓✓", label: "read" },
  played: { mark: "✓✓", label: "played" },
  failed: { mark: "!", label: "failed" },
  received: { mark: "", label: "received" },
};

const QUICK_REACTIONS = ["👍", "❤️", "😂", "🙏"];

export function summary(message: MessageView): string {
  if (message.deleted_at) return "Message deleted";
  if (message.text) return message.text;
  if (message.caption) return message.caption;
  if (message.media?.filename) return message.media.filename;
  return message.type;
}

function Body({ message }: { message: MessageView }) {
  if (message.deleted_at) return <p className="deleted">This message was deleted</p>;
  switch (message.type) {
    case "image":
    case "video":
    case "audio":
    case "voice":
    case "sticker":
      return (
        <>
          <InlineMedia message={message} />
          {message.caption && <p className="text">{message.caption}</p>}
        </>
      );
    case "document":
      return (
        <>
          <DocumentDownload message={message} />
          {message.caption && <p className="text">{message.caption}</p>}
        </>
      );
    case "location": {
      const l = message.location;
      if (!l) return <p className="text muted">Location</p>;
      const href = `https://www.openstreetmap.org/?mlat=${l.latitude}&mlon=${l.longitude}#map=16/${l.latitude}/${l.longitude}`;
      return (
        <a className="location" href={href} target="_blank" rel="noreferrer">
          <Icon name="location" size={22} />
          <span>
            <strong>{l.name ?? "Shared location"}</strong>
            <span className="muted">{l.address ?? `${l.latitude.toFixed(5)}, ${l.longitude.toFixed(5)}`}</span>
          </span>
        </a>
      );
    }
    case "contacts":
      return (
        <ul className="contact-cards" aria-label="Shared contacts">
          {(message.contacts ?? []).map((c, i) => (
            <li key={i}>
              <Icon name="contact" size={16} /> <strong>{c.name}</strong>
              {c.phones.map((p) => (
                <a key={p} href={`tel:${p}`}>
                  {p}
                </a>
              ))}
            </li>
          ))}
        </ul>
      );
    case "interactive_reply":
    case "button_reply":
      return (
        <p className="text">
          <span className="choice">{message.reply?.title ?? message.text}</span>
        </p>
      );
    case "reaction":
      return <p className="text reaction-message">Reacted {message.text}</p>;
    case "system": // WhatsApp's own note (a customer's new number), not the customer's words
      return <p className="text muted system-note">{message.text}</p>;
    case "unsupported":
      return (
        <p className="text muted">{message.unsupported_reason ?? "This message type is not supported yet."}</p>
      );
    default:
      return <p className="text">{message.text}</p>;
  }
}

export function MessageBubble({
  message,
  quoted,
  onReply,
}: {
  message: MessageView;
  quoted: MessageView | undefined;
  onReply: () => void;
}) {
  const { send, retry } = useSend(message.conversation_id);
  const [picking, setPicking] = useState(false);
  const outbound = message.direction === "outbound";
  const local = message.id.startsWith("local:");
  const tick = TICKS[message.status];
  const reactions = message.reactions ?? [];
  return (
    <div
      className={`message ${outbound ? "outbound" : "inbound"} status-${message.status}`}
      data-message-id={message.id}
      data-client-message-id={message.client_message_id ?? undefined}
      data-status={message.status}
    >
      <div className="bubble">
        {!outbound && message.sender_name && <p className="sender">{message.sender_name}</p>}
        {message.reply_to_message_id && (
          <blockquote className="quote">{quoted ? summary(quoted) : "Earlier message"}</blockquote>
        )}
        <Body message={message} />
        <p className="meta">
          {outbound && message.sent_from_phone && <span className="from-phone">sent from the phone</span>}
          {message.edited_at && !message.deleted_at && <span className="edited">edited</span>}
          <time dateTime={message.created_at}>{clock(message.created_at)}</time>
          {outbound && (
            <span className={`ticks ticks-${message.status}`} aria-label={`Status: ${tick.label}`} title={tick.label}>
              {message.status === "queued" ? <Icon name="clock" size={12} /> : tick.mark}
            </span>
          )}
        </p>
        {reactions.length > 0 && (
          <p className="reactions" aria-label="Reactions">
            {reactions.map((r, i) => (
              <span key={i} className={`reaction ${r.direction}`}>
                {r.emoji}
              </span>
            ))}
          </p>
        )}
      </div>
      {message.status === "failed" && (
        <p className="failure" role="alert">
          Not delivered: {message.error_reason ?? message.error_code ?? "the provider refused it"}
          {local && message.client_message_id && (
            <button type="button" className="link" onClick={() => retry(message)}>
              Retry
            </button>
          )}
        </p>
      )}
      {!local && message.type !== "reaction" && (
        <div className="message-actions">
          <button type="button" className="icon small" onClick={onReply} aria-label="Reply to this message">
            <Icon name="reply" />
          </button>
          <button
            type="button"
            className="icon small"
            onClick={() => setPicking((p) => !p)}
            aria-label="React to this message"
            aria-expanded={picking}
          >
            <Icon name="smile" />
          </button>
          {picking && (
            <span className="reaction-picker" role="group" aria-label="Choose a reaction">
              {QUICK_REACTIONS.map((emoji) => (
                <button
                  key={emoji}
                  type="button"
                  className="icon small"
                  aria-label={`React ${emoji}`}
                  onClick={() => {
                    send({ kind: "reaction", message_id: message.id, emoji });
                    setPicking(false);
                  }}
                >
                  {emoji}
                </button>
              ))}
            </span>
          )}
        </div>
      )}
    </div>
  );
}
