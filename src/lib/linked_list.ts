/**
 * A list that values join and leave in constant time without hashing them: `add` returns the
 * value's link, and disposing of the link takes the value out, once. For what the hot path
 * tracks per request (the requests in flight, the bodies being read), where a `Set` would hash
 * a fresh object on every add.
 * @module
 */

/** One value's place in a {@linkcode LinkedList}; disposing of it takes the value out. */
export class Link<T> implements Disposable {
  readonly value: T;
  /** The list, while the value is in it. */
  list: LinkedList<T> | undefined;
  previous: Link<T> | undefined;
  next: Link<T> | undefined;

  constructor(list: LinkedList<T>, value: T) {
    this.list = list;
    this.value = value;
  }

  [Symbol.dispose](): void {
    this.list?.remove(this);
  }
}

/** Values in the order they joined, most recent first. */
export class LinkedList<T> implements Iterable<T> {
  #head: Link<T> | undefined;
  #size = 0;

  /** How many values are in the list. */
  get size(): number {
    return this.#size;
  }

  /** Puts `value` in the list; its link takes it out again. */
  add(value: T): Link<T> {
    const link = new Link(this, value);
    link.next = this.#head;
    if (this.#head) this.#head.previous = link;
    this.#head = link;
    this.#size++;
    return link;
  }

  /** Takes a link's value out of the list; nothing happens if it is out already. */
  remove(link: Link<T>): void {
    if (link.list !== this) return;
    link.list = undefined;
    if (link.previous) link.previous.next = link.next;
    else this.#head = link.next;
    if (link.next) link.next.previous = link.previous;
    link.previous = link.next = undefined;
    this.#size--;
  }

  /**
   * The values in the list when the walk begins, most recent first; one taken out meanwhile is
   * skipped, one added meanwhile is not seen.
   */
  *[Symbol.iterator](): Iterator<T> {
    const links: Link<T>[] = [];
    for (let link = this.#head; link !== undefined; link = link.next) links.push(link);
    for (const link of links) if (link.list === this) yield link.value;
  }
}
