// The gateway's REST API (OpenAPI at /docs) and media-api, with the agent's bearer token.

import type { ConversationPage, StatusFilter } from "../state/conversations";
import type { MessagePage } from "../state/messages";
import type { ConversationView, MessageView } from "../protocol/types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Endpoints {
  api: string; // the gateway's origin ("" = this page's)
  media: string; // media-api's origin ("" = this page's, as behind the ingress)
  token: () => Promise<string>;
  /** A request was refused for its token (401): ask the host for a fresh one. */
  onUnauthorized?: () => void;
}

/** RFC 9457 problem details → a message an agent can read. */
async function failure(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = response.statusText || `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { code?: string; detail?: unknown; title?: string };
    if (typeof body.code === "string") code = body.code;
    if (typeof body.detail === "string") message = body.detail;
    else if (typeof body.title === "string") message = body.title;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, code, message);
}

export class Api {
  constructor(private readonly endpoints: Endpoints) {}

  private async call<T>(path: string, init: RequestInit = {}, base = this.endpoints.api): Promise<T> {
    const token = await this.endpoints.token();
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${token}`);
    if (init.body !== undefined && typeof init.body === "string") headers.set("Content-Type", "application/json");
    const response = await fetch(base + path, { ...init, headers });
    if (response.status === 401) this.endpoints.onUnauthorized?.();
    if (!response.ok) throw await failure(response);
    return (await response.json()) as T;
  }

  conversations(status: StatusFilter, cursor: string | null, limit = 30): Promise<ConversationPage> {
    const params = new URLSearchParams({ limit: String(limit) });
    if (status !== "all") params.set("status", status);
    if (cursor !== null) params.set("cursor", cursor);
    return this.call(`/v1/conversations?${params}`);
  }

  conversation(id: string): Promise<ConversationView> {
    return this.call(`/v1/conversations/${id}`);
  }

  messages(conversationId: string, before: string | null, limit = 40): Promise<MessagePage> {
    const params = new URLSearchParams({ limit: String(limit) });
    if (before !== null) params.set("before", before);
    return this.call(`/v1/conversations/${conversationId}/messages?${params}`);
  }

  send(conversationId: string, body: SendBody): Promise<MessageView> {
    return this.call(`/v1/conversations/${conversationId}/messages`, {
      method: "POST",
      body: JSON.stringify(body),
    });
  }

  markRead(conversationId: string): Promise<ConversationView> {
    return this.call(`/v1/conversations/${conversationId}/read`, { method: "POST" });
  }

  patch(conversationId: string, changes: { status?: "open" | "closed"; assignee?: string | null }): Promise<ConversationView> {
    return this.call(`/v1/conversations/${conversationId}`, { method: "PATCH", body: JSON.stringify(changes) });
  }

  /** The attachment's bytes: media-api answers with a short-lived signed link it redirects to. */
  async media(messageId: string): Promise<Blob> {
    const token = await this.endpoints.token();
    const response = await fetch(`${this.endpoints.media}/v1/media/${messageId}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (!response.ok) throw await failure(response);
    return response.blob();
  }

  /** Uploads a file for an outbound message, reporting progress (fetch cannot, XHR can). */
  async upload(file: File, onProgress: (fraction: number) => void): Promise<MediaReference> {
    const token = await this.endpoints.token();
    const form = new FormData();
    form.append("file", file, file.name);
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `${this.endpoints.media}/v1/media`);
      xhr.setRequestHeader("Authorization", `Bearer ${token}`);
      xhr.upload.onprogress = (ev) => ev.lengthComputable && onProgress(ev.loaded / ev.total);
      xhr.onerror = () => reject(new ApiError(0, "network", "the upload could not reach the server"));
      xhr.onload = () => {
        let body: { code?: string; detail?: string } & Partial<MediaReference> = {};
        try {
          body = JSON.parse(xhr.responseText) as typeof body;
        } catch {
          // keep empty
        }
        if (xhr.status === 201) resolve(body as MediaReference);
        else reject(new ApiError(xhr.status, body.code ?? `http_${xhr.status}`, body.detail ?? "the upload was refused"));
      };
      xhr.send(form);
    });
  }
}

export interface MediaReference {
  media_key: string;
  mime: string;
  size: number;
  media_type: "image" | "video" | "audio" | "voice" | "document" | "sticker";
  filename: string | null;
}

export type SendContent =
  | { kind: "text"; body: string }
  | { kind: "media"; media_type: string; media_key: string; mime: string; filename?: string | null; caption?: string | null }
  | { kind: "template"; name: string; language: string; body_params: string[] }
  | { kind: "reaction"; message_id: string; emoji: string };

export interface SendBody {
  client_message_id: string;
  content: SendContent;
  reply_to_message_id?: string | null;
}
