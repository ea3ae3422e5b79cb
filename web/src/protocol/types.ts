// The gateway's snapshots (libs/contracts/realtime.py) and websocket frames
// (docs/websocket-protocol.md), as the browser receives them.

export type MessageStatus =
  | "queued"
  | "sent"
  | "delivered"
  | "read"
  | "played"
  | "failed"
  | "received";

export interface MediaView {
  state: "pending" | "stored" | "failed";
  mime?: string | null;
  size?: number | null;
  filename?: string | null;
  error?: string | null;
}

export interface Location {
  latitude: number;
  longitude: number;
  name?: string | null;
  address?: string | null;
}

export interface ContactCard {
  name: string;
  phones: string[];
}

export interface ReplyChoice {
  kind: string;
  id?: string | null;
  title: string;
  description?: string | null;
}

export interface ReactionView {
  emoji: string;
  direction: "inbound" | "outbound";
}

export interface MessageView {
  id: string;
  conversation_id: string;
  direction: "inbound" | "outbound";
  type: string;
  status: MessageStatus;
  text?: string | null;
  caption?: string | null;
  media?: MediaView | null;
  location?: Location | null;
  contacts?: ContactCard[];
  reply?: ReplyChoice | null;
  reply_to_message_id?: string | null;
  reactions?: ReactionView[];
  client_message_id?: string | null;
  provider_message_id?: string | null;
  error_code?: string | null;
  error_reason?: string | null;
  sender_name?: string | null;
  // Its author edited it (the latest edit's time) or deleted it for everyone (no content then).
  edited_at?: string | null;
  deleted_at?: string | null;
  referral?: Referral | null; // the Click-to-WhatsApp ad the customer came from
  unsupported_reason?: string | null; // the provider's words for an unsupported message
  // Outbound, typed by the business on its own phone / WhatsApp Business app, not sent here.
  sent_from_phone?: boolean;
  order?: Order | null; // a cart from the catalog; `text` sums it up
  created_at: string;
  updated_at: string;
}

export interface OrderItem {
  product_retailer_id: string;
  quantity: number;
  item_price?: number | null;
  currency?: string | null;
}

export interface Order {
  catalog_id?: string | null;
  items?: OrderItem[];
  text?: string | null;
}

export interface Referral {
  source_type?: string | null;
  source_id?: string | null;
  source_url?: string | null;
  headline?: string | null;
  body?: string | null;
  media_url?: string | null;
  ctwa_clid?: string | null;
}

export interface ConversationView {
  id: string;
  integration_id: string;
  provider: string;
  contact_id: string;
  contact_name?: string | null;
  contact_phone?: string | null;
  status: "open" | "closed";
  assignee?: string | null;
  last_message_preview?: string | null;
  last_message_at?: string | null;
  last_inbound_at?: string | null;
  unread_count: number;
  updated_at: string;
}

export type RealtimeEvent =
  | { type: "message.created"; cursor?: number | null; message: MessageView }
  | { type: "message.updated"; cursor?: number | null; message: MessageView }
  | { type: "conversation.updated"; cursor?: number | null; conversation: ConversationView };

export type ServerFrame =
  | { type: "ready"; tenant_id: string; user_id: string; role: string; cursor: number }
  | { type: "subscribed"; channel: string; cursor: number }
  | { type: "unsubscribed"; channel: string }
  | { type: "event"; cursor: number; channel?: string; event: RealtimeEvent }
  | { type: "reset"; channel: string; cursor: number }
  | { type: "error"; code: string; message: string; channel?: string };

export type ClientFrame =
  | { type: "auth"; token: string }
  | { type: "subscribe"; channel: string; after: number | null }
  | { type: "unsubscribe"; channel: string };

/** The channels an event belongs to: `inbox` and/or its conversation's channel. */
export function channelsOf(event: RealtimeEvent): string[] {
  if (event.type === "conversation.updated") {
    return ["inbox", `conversation:${event.conversation.id}`];
  }
  return [`conversation:${event.message.conversation_id}`];
}

/** Parses one text frame; anything that is not a known frame is null (never thrown). */
export function parseFrame(data: string): ServerFrame | null {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const type = (value as { type?: unknown }).type;
  const known = ["ready", "subscribed", "unsubscribed", "event", "reset", "error"];
  return typeof type === "string" && known.includes(type) ? (value as ServerFrame) : null;
}
