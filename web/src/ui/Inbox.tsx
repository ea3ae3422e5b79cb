import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";

import { Api } from "../api/rest";
import { mediaOrigin, tokens, requestFreshToken } from "../auth/host";
import type { ConnectionState } from "../protocol/connection";
import { Outbox } from "../state/outbox";
import { Seen } from "../state/seen";
import { connectLive } from "../live";
import { ConnectionBadge } from "./ConnectionBadge";
import { InboxContext, type InboxServices } from "./context";
import { ConversationList } from "./ConversationList";
import { ConversationPane } from "./ConversationPane";

function wsUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === "https:" ? "wss" : "ws"}://${host}/v1/ws`;
}

function selectedFromUrl(): string | null {
  return new URLSearchParams(window.location.search).get("c");
}

/** Asks the host for a fresh token and waits a while for it (false: none came). */
function refreshToken(): Promise<boolean> {
  const before = tokens.current;
  requestFreshToken();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      unsubscribe();
      resolve(false);
    }, 15_000);
    const unsubscribe = tokens.subscribe((token) => {
      if (token !== null && token !== before) {
        clearTimeout(timer);
        unsubscribe();
        resolve(true);
      }
    });
  });
}

export function Inbox({ me }: { me: string }) {
  const client = useQueryClient();
  const [state, setState] = useState<ConnectionState>("connecting");
  const [selected, setSelected] = useState<string | null>(selectedFromUrl);

  const services = useMemo<InboxServices>(() => {
    const token = () => tokens.next();
    const api = new Api({ api: "", media: mediaOrigin(), token, onUnauthorized: requestFreshToken });
    const seen = new Seen();
    const connection = connectLive({ client, url: wsUrl(), token, refreshToken, onState: setState, seen });
    return { api, connection, outbox: new Outbox(), seen, me };
  }, [client, me]);

  useEffect(() => {
    const { connection } = services;
    connection.start();
    const online = () => connection.setOnline(true);
    const offline = () => connection.setOnline(false);
    window.addEventListener("online", online);
    window.addEventListener("offline", offline);
    if (!navigator.onLine) connection.setOnline(false);
    return () => {
      window.removeEventListener("online", online);
      window.removeEventListener("offline", offline);
      connection.stop();
    };
  }, [services]);

  useEffect(() => {
    const onPop = () => setSelected(selectedFromUrl());
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  const open = (id: string | null) => {
    setSelected(id);
    const url = id === null ? window.location.pathname : `${window.location.pathname}?c=${id}`;
    window.history.pushState(null, "", url);
  };

  return (
    <InboxContext.Provider value={services}>
      <div className={`inbox ${selected ? "has-selection" : ""}`}>
        <aside className="sidebar" aria-label="Conversations">
          <header className="sidebar-header">
            <div className="brand">
              <span className="brand-mark small" aria-hidden="true">◎</span>
              <span>Inbox</span>
            </div>
            <ConnectionBadge state={state} />
          </header>
          <ConversationList selected={selected} onOpen={open} />
          <footer className="sidebar-footer">
            Signed in as <strong>{me}</strong>
          </footer>
        </aside>
        <main className="pane">
          {selected ? (
            <ConversationPane key={selected} id={selected} onBack={() => open(null)} />
          ) : (
            <div className="empty-pane">
              <div className="brand-mark" aria-hidden="true">◎</div>
              <h2>Select a conversation</h2>
              <p>New messages appear on the left as customers write.</p>
            </div>
          )}
        </main>
      </div>
    </InboxContext.Provider>
  );
}
