import { createContext, useContext } from "react";

import type { Api } from "../api/rest";
import type { RealtimeConnection } from "../protocol/connection";
import type { Outbox } from "../state/outbox";
import type { Seen } from "../state/seen";

export interface InboxServices {
  api: Api;
  connection: RealtimeConnection;
  outbox: Outbox;
  seen: Seen; // live snapshots, merged over REST pages
  me: string; // the signed-in agent's user id (the token's subject)
}

export const InboxContext = createContext<InboxServices | null>(null);

export function useInbox(): InboxServices {
  const services = useContext(InboxContext);
  if (services === null) throw new Error("useInbox outside <InboxContext>");
  return services;
}
