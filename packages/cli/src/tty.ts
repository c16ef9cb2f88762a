// `-it`: nsk's terminal joined to the container's pty. Bytes typed go to the
// master unchanged (nsk's terminal in raw mode: ^C is a byte for the
// container's line discipline, which turns it into SIGINT there); what the
// container writes comes back from the master. The window size follows
// nsk's terminal: tty_ioctl(4) TIOCSWINSZ on the master makes the kernel send
// SIGWINCH to the container's foreground process group.
import tty from 'node:tty';
import { Arena, F, fcntl, syscall } from '@nsk/syscall';

/** tty_ioctl(4); asm-generic/ioctls.h (the same on x86_64 and aarch64). */
const TCGETS = 0x5401;
const TCSETSW = 0x5403;
const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;

/** termios(3) flags, asm-generic/termbits.h. */
const IFLAG_RAW = 0o1 | 0o2 | 0o10 | 0o40 | 0o100 | 0o200 | 0o400 | 0o2000; // IGNBRK BRKINT PARMRK ISTRIP INLCR IGNCR ICRNL IXON
const OPOST = 0o1;
const LFLAG_RAW = 0o10 | 0o100 | 0o2 | 0o1 | 0o100000; // ECHO ECHONL ICANON ISIG IEXTEN
const CSIZE = 0o60;
const PARENB = 0o400;
const CS8 = 0o60;
const VTIME = 5;
const VMIN = 6;
/** struct termios as the kernel's TCGETS fills it: four tcflag_t, c_line, c_cc[19]. */
const TERMIOS_SIZE = 36;

let scratch: Arena | undefined;
/** Native memory for the ioctls' structs: winsize at 0, termios at 64. */
const mem = (offset: number, len: number): { view: DataView; bytes: Uint8Array; address: bigint } => {
  scratch ??= Arena.map(4096);
  return {
    view: new DataView(scratch.bytes.buffer, scratch.bytes.byteOffset + offset, len),
    bytes: scratch.bytes.subarray(offset, offset + len),
    address: scratch.address + BigInt(offset),
  };
};
const winsize = () => mem(0, 8);

/**
 * cfmakeraw(3) on `fd`: no echo, no line editing, no signals from keys, and
 * output passed as it is (no OPOST: the container's own pty already turned
 * \n into \r\n). libuv's raw mode keeps ONLCR, which would double every \r.
 * With `inputToo` false only OPOST goes: keys keep their meaning (^C stays
 * SIGINT to nsk, which forwards it). Returns the function that puts the
 * saved settings back.
 */
export function makeRaw(fd: number, inputToo: boolean): () => void {
  const t = mem(64, TERMIOS_SIZE);
  syscall('ioctl', fd, TCGETS, t.address);
  const saved = Uint8Array.from(t.bytes);
  const flag = (i: number, f: (v: number) => number) => t.view.setUint32(i * 4, f(t.view.getUint32(i * 4, true)) >>> 0, true);
  flag(1, (v) => v & ~OPOST);
  if (inputToo) {
    flag(0, (v) => v & ~IFLAG_RAW);
    flag(2, (v) => (v & ~(CSIZE | PARENB)) | CS8);
    flag(3, (v) => v & ~LFLAG_RAW);
    t.bytes[17 + VMIN] = 1;
    t.bytes[17 + VTIME] = 0;
  }
  // TCSETSW: after what nsk already wrote has been sent.
  syscall('ioctl', fd, TCSETSW, t.address);
  return () => {
    const r = mem(64, TERMIOS_SIZE);
    r.bytes.set(saved);
    try {
      syscall('ioctl', fd, TCSETSW, r.address);
    } catch { /* the terminal is gone (hung up) */ }
  };
}

/** nsk's own window size: from stdout, else stdin; null when neither is a terminal. */
export function hostWindowSize(): { rows: number; columns: number } | null {
  if (process.stdout.isTTY && process.stdout.rows) return { rows: process.stdout.rows, columns: process.stdout.columns };
  for (const fd of [0, 2]) {
    if (!tty.isatty(fd)) continue;
    const w = winsize();
    // struct winsize { unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel; }
    syscall('ioctl', fd, TIOCGWINSZ, w.address);
    return { rows: w.view.getUint16(0, true), columns: w.view.getUint16(2, true) };
  }
  return null;
}

/**
 * @nsk/container's `tty` option for a new pty: nsk's window size, set on
 * the pty before the command runs (so its first look sees it), or plain
 * true when nsk has no terminal with a size.
 */
export function ttyOption(): true | { rows: number; columns: number } {
  const s = hostWindowSize();
  return s && s.rows > 0 && s.columns > 0 ? s : true;
}

/** TIOCSWINSZ on `fd` (a pty master). */
export function setWindowSize(fd: number, size: { rows: number; columns: number }): void {
  const w = winsize();
  w.view.setUint16(0, size.rows, true);
  w.view.setUint16(2, size.columns, true);
  w.view.setUint32(4, 0, true);
  syscall('ioctl', fd, TIOCSWINSZ, w.address);
}

export interface Attached {
  /** Resolves once the container's side of the pty is closed and its output has been copied. */
  readonly done: Promise<void>;
  /** Puts nsk's terminal back as it was and stops copying. Idempotent. */
  restore(): void;
}

/**
 * Copies between nsk's stdio and the pty `master`. `stdin` (-i) also sends
 * what nsk reads; without it the container's terminal gets no input.
 */
export function attachTerminal(master: number, opts: { stdin: boolean }): Attached {
  const size = hostWindowSize();
  if (size) setWindowSize(master, size);
  const onWinch = () => {
    const s = hostWindowSize();
    if (s) setWindowSize(master, s);
  };
  process.on('SIGWINCH', onWinch);

  // With -i, nsk's terminal goes raw: every key is the container's. With
  // -t alone, only its output processing is turned off.
  const full = opts.stdin && tty.isatty(0);
  const termFd = full ? 0 : tty.isatty(1) ? 1 : null;
  const unraw = termFd === null ? null : makeRaw(termFd, full);

  // Streams close the fd they hold, and the master belongs to the caller:
  // each stream gets a descriptor of its own (two libuv handles on one fd
  // would also clash in epoll).
  const reader = new tty.ReadStream(fcntl(master, F.DUPFD_CLOEXEC, 3));
  let writer: tty.WriteStream | null = null;
  const done = new Promise<void>((resolve) => {
    reader.on('data', (d: Buffer) => process.stdout.write(d));
    // pty(7): once every fd of the slave side is closed, read(2) on the
    // master fails with EIO; that is the end of the container's output.
    reader.on('error', () => resolve());
    reader.on('end', () => resolve());
    reader.on('close', () => resolve());
  });

  const onData = (d: Buffer) => writer?.write(d);
  const onEnd = () => writer?.write('\x04'); // stdin ended: VEOF to the container's line discipline
  if (opts.stdin) {
    writer = new tty.WriteStream(fcntl(master, F.DUPFD_CLOEXEC, 3));
    writer.on('error', () => {});
    process.stdin.on('data', onData);
    process.stdin.on('end', onEnd);
    process.stdin.resume();
  }

  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    process.off('SIGWINCH', onWinch);
    process.off('exit', restore);
    if (opts.stdin) {
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
      process.stdin.pause();
    }
    unraw?.();
    writer?.destroy();
    reader.destroy();
  };
  // Whatever happens next, the terminal is given back in cooked mode.
  process.on('exit', restore);
  return { done, restore };
}
