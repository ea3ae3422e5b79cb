import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { installHostBridge } from "./auth/host";
import { App } from "./ui/App";
import "./styles.css";

installHostBridge();

const client = new QueryClient({
  defaultOptions: {
    // Live events keep the cache fresh; refetch only when the socket says to (reset/resume).
    queries: { staleTime: Infinity, refetchOnWindowFocus: false, retry: 2 },
  },
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={client}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
