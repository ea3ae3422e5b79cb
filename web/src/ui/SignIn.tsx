import { useState, type FormEvent } from "react";

import { tokens } from "../auth/host";
import { claimsOf } from "../auth/token";

/** Shown until a token arrives: from the sign-in URL of `make dev`, or from the host page. */
export function SignIn({ invalid }: { invalid: boolean }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState(invalid ? "That token is not a valid agent token." : "");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const token = value.trim();
    if (claimsOf(token)?.sub === undefined) {
      setError("That is not a JWT: paste the whole token.");
      return;
    }
    tokens.set(token);
  };
  return (
    <main className="signin">
      <form className="signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <div className="brand-mark" aria-hidden="true">◎</div>
        <h1 id="signin-title">Omnichannel Inbox</h1>
        <p>
          Open the sign-in link that <code>make dev</code> prints, or let your application hand the inbox a
          token.
        </p>
        <label htmlFor="token">Agent token</label>
        <textarea
          id="token"
          rows={3}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          placeholder="eyJhbGciOi…"
          aria-invalid={error !== ""}
          aria-describedby={error ? "token-error" : undefined}
        />
        {error && (
          <p id="token-error" className="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}
