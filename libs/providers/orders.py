"""What an agent reads for a cart a customer sent from the business's catalog, whichever
provider brought it (Meta ``order``, Z-API ``order``). Pure."""

from contracts.inbound import Order


def summary(order: Order) -> str:
    """What an agent reads for a cart: "Order: 2 items (3 units), 59.90 BRL", then the
    customer's note. The total is left out when the items are priced in several currencies."""
    count = len(order.items)
    units = sum(i.quantity for i in order.items)
    line = f"Order: {count} {_plural(count, 'item')} ({units:g} {_plural(units, 'unit')})"
    currencies = {i.currency for i in order.items}
    if order.items and all(i.item_price is not None for i in order.items) and len(currencies) == 1:
        total = sum((i.item_price or 0) * i.quantity for i in order.items)
        line += f", {total:.2f} {currencies.pop() or ''}".rstrip()
    return f"{line}\n{order.text}" if order.text else line


def _plural(count: float, word: str) -> str:
    return word if count == 1 else f"{word}s"
