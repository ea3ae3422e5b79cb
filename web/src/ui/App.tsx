import { useSyncExternalStore } from "react";

import { tokens } from "../auth/host";
import { claimsOf } from "../auth/token";
import { Inbox } from "./Inbox";
import { SignIn } from "./SignIn";

export function App() {
  const token = useSyncExternalStore(tokens.subscribe, tokens.snapshot);
  const subject = token === null ? null : (claimsOf(token)?.sub ?? null);
  if (token === null || subject === null) return <SignIn invalid={token !== null} />;
  return <Inbox me={subject} />;
}
