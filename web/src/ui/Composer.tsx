import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";

import type { MediaReference } from "../api/rest";
import type { ConversationView, MessageView } from "../protocol/types";
import { useInbox } from "./context";
import { windowLeftMs } from "./format";
import { summary } from "./MessageBubble";
import { useSend } from "./send";
import { Icon } from "./Icon";

interface Upload {
  file: File;
  progress: number;
  error: string | null;
}

/** WhatsApp's outbound kinds: the upload's voice notes go out as audio. */
function outboundKind(reference: MediaReference): string {
  return reference.media_type === "voice" ? "audio" : reference.media_type;
}

function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

export function Composer({
  conversation,
  replyTo,
  onReplyDone,
  onSent,
}: {
  conversation: ConversationView;
  replyTo: MessageView | null;
  onReplyDone: () => void;
  onSent: () => void;
}) {
  const { api } = useInbox();
  const { send } = useSend(conversation.id);
  const [text, setText] = useState("");
  const [upload, setUpload] = useState<Upload | null>(null);
  const [template, setTemplate] = useState({ name: "hello_world", language: "en_US", params: "" });
  const input = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const now = useNow(30_000);
  const left = windowLeftMs(conversation.last_inbound_at, now);

  useEffect(() => {
    if (replyTo) input.current?.focus();
  }, [replyTo]);

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const body = text.trim();
    if (!body) return;
    send({ kind: "text", body }, replyTo?.id ?? null);
    setText("");
    onReplyDone();
    onSent();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) submit();
    if (event.key === "Escape") onReplyDone();
  };

  const attach = (file: File) => {
    setUpload({ file, progress: 0, error: null });
    api
      .upload(file, (progress) => setUpload((u) => (u && u.file === file ? { ...u, progress } : u)))
      .then(
        (reference) => {
          send(
            {
              kind: "media",
              media_type: outboundKind(reference),
              media_key: reference.media_key,
              mime: reference.mime,
              filename: reference.filename ?? file.name,
              caption: text.trim() || null,
            },
            replyTo?.id ?? null,
          );
          setText("");
          setUpload(null);
          onReplyDone();
          onSent();
        },
        (error: Error) => setUpload({ file, progress: 0, error: error.message }),
      );
  };

  if (left === 0) {
    const sendTemplate = (event: FormEvent) => {
      event.preventDefault();
      const params = template.params
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean);
      send({ kind: "template", name: template.name.trim(), language: template.language.trim(), body_params: params });
      onSent();
    };
    return (
      <form className="composer template-picker" onSubmit={sendTemplate} aria-label="Send a template">
        <p className="window-note closed">
          The 24-hour window is closed: the customer has not written in the last 24 hours. Only an approved template
          can reopen the conversation.
        </p>
        <div className="template-fields">
          <label>
            Template
            <select value={template.name} onChange={(e) => setTemplate({ ...template, name: e.target.value })}>
              <option value="hello_world">hello_world</option>
              <option value="follow_up">follow_up</option>
              <option value="order_update">order_update</option>
            </select>
          </label>
          <label>
            Language
            <input value={template.language} onChange={(e) => setTemplate({ ...template, language: e.target.value })} />
          </label>
          <label>
            Parameters
            <input
              value={template.params}
              placeholder="comma-separated"
              onChange={(e) => setTemplate({ ...template, params: e.target.value })}
            />
          </label>
          <button type="submit" className="primary">
            Send template
          </button>
        </div>
      </form>
    );
  }

  const hours = Math.floor(left / 3_600_000);
  const minutes = Math.floor((left % 3_600_000) / 60_000);
  return (
    <form className="composer" onSubmit={submit} aria-label="Reply">
      {replyTo && (
        <div className="replying">
          <blockquote className="quote">{summary(replyTo)}</blockquote>
          <button type="button" className="icon small" onClick={onReplyDone} aria-label="Cancel reply">
            <Icon name="close" />
          </button>
        </div>
      )}
      {upload && (
        <div className="upload" role="status">
          <span className="upload-name">{upload.file.name}</span>
          {upload.error ? (
            <span className="form-error">
              {upload.error}{" "}
              <button type="button" className="link" onClick={() => attach(upload.file)}>
                Retry
              </button>{" "}
              <button type="button" className="link" onClick={() => setUpload(null)}>
                Dismiss
              </button>
            </span>
          ) : (
            <progress max={1} value={upload.progress} aria-label={`Uploading ${upload.file.name}`} />
          )}
        </div>
      )}
      <div className="composer-row">
        <button
          type="button"
          className="icon"
          onClick={() => fileInput.current?.click()}
          aria-label="Attach a file"
          disabled={upload !== null && upload.error === null}
        >
          <Icon name="attach" size={20} />
        </button>
        <input
          ref={fileInput}
          type="file"
          className="visually-hidden"
          tabIndex={-1}
          aria-label="File to send"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) attach(file);
            e.target.value = "";
          }}
        />
        <label className="visually-hidden" htmlFor="composer-text">
          Message
        </label>
        <textarea
          id="composer-text"
          ref={input}
          rows={1}
          value={text}
          placeholder="Type a message"
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
        />
        <button type="submit" className="primary send" disabled={!text.trim()} aria-label="Send">
          Send
        </button>
      </div>
      <p className={`window-note ${hours < 2 ? "closing" : ""}`}>
        24-hour window: {hours} h {minutes} min left
      </p>
    </form>
  );
}
