// Every snapshot the websocket delivered since the page loaded, newest per id. The screens
// merge it over their REST pages because a REST answer can be older than a live event that
// arrived while it was in flight: replacing the cache with it must not lose that event.

import type { ConversationView, MessageView } from "../protocol/types";

type Listener = () => void;

export class Seen {
  private readonly conversations = new Map<string, ConversationView>();
  private readonly messages = new Map<string, Map<string, MessageView>>();
  private readonly listeners = new Set<Listener>();
  private version = 0;

  conversation(view: ConversationView): void {
    const kept = this.conversations.get(view.id);
    if (kept !== undefined && kept.updated_at > view.updated_at) return;
    this.conversations.set(view.id, view);
    this.changed();
  }

  message(view: MessageView): void {
    let byId = this.messages.get(view.conversation_id);
    if (byId === undefined) {
      byId = new Map();
      this.messages.set(view.conversation_id, byId);
    }
    const kept = byId.get(view.id);
    if (kept !== undefined && kept.updated_at > view.updated_at) return;
    byId.set(view.id, view);
    this.changed();
  }

  conversationById(id: string): ConversationView | undefined {
    return this.conversations.get(id);
  }

  allConversations(): ConversationView[] {
    return [...this.conversations.values()];
  }

  messagesOf(conversationId: string): MessageView[] {
    return [...(this.messages.get(conversationId)?.values() ?? [])];
  }

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = (): number => this.version;

  private changed(): void {
    this.version += 1;
    for (const listener of this.listeners) listener();
  }
}
