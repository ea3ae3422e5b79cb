import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { keys } from "../live";
import type { MessageView } from "../protocol/types";
import { useInbox } from "./context";
import { size } from "./format";
import { Icon } from "./Icon";

/** The attachment's bytes as an object URL, fetched once through media-api (with the token). */
function useMediaUrl(message: MessageView, enabled: boolean) {
  const { api } = useInbox();
  const query = useQuery({
    queryKey: keys.media(message.id),
    queryFn: async () => URL.createObjectURL(await api.media(message.id)),
    enabled: enabled && message.media?.state === "stored" && !message.id.startsWith("local:"),
    staleTime: Infinity,
    gcTime: 10 * 60_000,
  });
  return query;
}

export function InlineMedia({ message }: { message: MessageView }) {
  const media = message.media;
  const url = useMediaUrl(message, true);
  const [broken, setBroken] = useState(false);
  if (media?.state === "failed") return <p className="media-note">Attachment unavailable: {media.error ?? "failed"}</p>;
  if (media?.state !== "stored" || message.id.startsWith("local:"))
    return <div className={`media-placeholder media-${message.type}`}>{message.id.startsWith("local:") ? "Sending…" : "Loading attachment…"}</div>;
  if (url.isError) return <p className="media-note">Could not load the attachment: {url.error.message}</p>;
  if (!url.data) return <div className={`media-placeholder media-${message.type}`}>Loading…</div>;
  const label = message.caption ?? `${message.type} from ${message.direction === "inbound" ? "customer" : "agent"}`;
  switch (message.type) {
    case "image":
    case "sticker":
      // A file the browser cannot decode stays downloadable instead of a broken picture.
      return (
        <a href={url.data} target="_blank" rel="noreferrer" download={broken ? (media.filename ?? "image") : undefined}>
          <img
            className={message.type === "sticker" ? "sticker" : "media-image"}
            src={url.data}
            alt={label}
            hidden={broken}
            onError={() => setBroken(true)}
          />
          {broken && <span className="media-placeholder">Image cannot be previewed · open</span>}
        </a>
      );
    case "video":
      return <video className="media-video" src={url.data} controls preload="metadata" aria-label={label} />;
    default:
      return <audio className="media-audio" src={url.data} controls preload="metadata" aria-label={label} />;
  }
}

export function DocumentDownload({ message }: { message: MessageView }) {
  const { api } = useInbox();
  const client = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const media = message.media;
  const name = media?.filename ?? "document";
  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      const url = await client.fetchQuery({
        queryKey: keys.media(message.id),
        queryFn: async () => URL.createObjectURL(await api.media(message.id)),
        staleTime: Infinity,
      });
      const link = document.createElement("a");
      link.href = url;
      link.download = name;
      link.click();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const ready = media?.state === "stored" && !message.id.startsWith("local:");
  return (
    <div className="document">
      <span className="document-icon" aria-hidden="true">
        <Icon name="document" size={26} />
      </span>
      <span className="document-info">
        <span className="document-name">{name}</span>
        <span className="document-meta">
          {[media?.mime, size(media?.size)].filter(Boolean).join(" · ")}
          {media?.state === "failed" && ` · unavailable: ${media.error ?? "failed"}`}
          {media?.state === "pending" && " · fetching…"}
          {error && ` · ${error}`}
        </span>
      </span>
      <button type="button" className="small" disabled={!ready || busy} onClick={() => void download()} aria-label={`Download ${name}`}>
        {busy ? "…" : "Download"}
      </button>
    </div>
  );
}
