// How times, sizes and names read in the inbox.

export function timeLabel(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return "";
  const at = new Date(iso);
  const sameDay = at.toDateString() === now.toDateString();
  if (sameDay) return at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const days = (now.getTime() - at.getTime()) / 86_400_000;
  if (days < 6) return at.toLocaleDateString([], { weekday: "short" });
  return at.toLocaleDateString([], { day: "2-digit", month: "short" });
}

export function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function dayLabel(iso: string, now: Date = new Date()): string {
  const at = new Date(iso);
  if (at.toDateString() === now.toDateString()) return "Today";
  const yesterday = new Date(now.getTime() - 86_400_000);
  if (at.toDateString() === yesterday.toDateString()) return "Yesterday";
  return at.toLocaleDateString([], { weekday: "long", day: "numeric", month: "long" });
}

export function size(bytes: number | null | undefined): string {
  if (bytes == null) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function phone(value: string | null | undefined): string {
  return value ? `+${value.replace(/^\+/, "")}` : "";
}

export function displayName(name: string | null | undefined, number: string | null | undefined): string {
  return name?.trim() || phone(number) || "Unknown contact";
}

export function initials(name: string): string {
  const letters = name
    .replace(/[^\p{L}\s]/gu, "")
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]!.toUpperCase());
  return letters.join("") || "#";
}

/** The 24-hour customer-care window: open until 24 h after the customer's last message. */
export function windowLeftMs(lastInboundAt: string | null | undefined, nowMs: number = Date.now()): number {
  if (!lastInboundAt) return 0;
  return Math.max(0, new Date(lastInboundAt).getTime() + 24 * 3_600_000 - nowMs);
}
