// Finds where a chunked message body ends (RFC 9112 §7.1) without copying
// it: chunk data is skipped in bulk, only size lines and trailers are walked
// byte by byte. The bytes themselves are relayed unchanged.

const SIZE = 0;
const EXT = 1;
const SIZE_LF = 2;
const DATA = 3;
const DATA_CR = 4;
const DATA_LF = 5;
const TRAILER_START = 6;
const TRAILER = 7;
const TRAILER_LF = 8;
const END_LF = 9;

export const NEED_MORE = -1;
export const MALFORMED = -2;

export class ChunkedScanner {
  state = SIZE;
  size = 0;
  digits = 0;
  left = 0;

  reset(): void {
    this.state = SIZE;
    this.size = 0;
    this.digits = 0;
    this.left = 0;
  }

  /** Scans buf from `from`: index just past the body's end, NEED_MORE, or MALFORMED. */
  scan(buf: Buffer, from: number): number {
    let i = from;
    const n = buf.length;
    while (i < n) {
      switch (this.state) {
        case DATA: {
          const take = Math.min(this.left, n - i);
          i += take;
          this.left -= take;
          if (this.left === 0) this.state = DATA_CR;
          continue;
        }
        case SIZE: {
          const c = buf[i];
          const v =
            c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (v >= 0) {
            if (++this.digits > 12) return MALFORMED;
            this.size = this.size * 16 + v;
          } else if (this.digits > 0 && (c === 59 || c === 32 || c === 9)) this.state = EXT;
          else if (this.digits > 0 && c === 13) this.state = SIZE_LF;
          else return MALFORMED;
          break;
        }
        case EXT:
          if (buf[i] === 13) this.state = SIZE_LF;
          else if (buf[i] === 10) return MALFORMED;
          break;
        case SIZE_LF:
          if (buf[i] !== 10) return MALFORMED;
          if (this.size === 0) this.state = TRAILER_START;
          else {
            this.left = this.size;
            this.state = DATA;
          }
          this.size = 0;
          this.digits = 0;
          break;
        case DATA_CR:
          if (buf[i] !== 13) return MALFORMED;
          this.state = DATA_LF;
          break;
        case DATA_LF:
          if (buf[i] !== 10) return MALFORMED;
          this.state = SIZE;
          break;
        case TRAILER_START:
          this.state = buf[i] === 13 ? END_LF : TRAILER;
          break;
        case TRAILER:
          if (buf[i] === 13) this.state = TRAILER_LF;
          break;
        case TRAILER_LF:
          if (buf[i] !== 10) return MALFORMED;
          this.state = TRAILER_START;
          break;
        case END_LF:
          if (buf[i] !== 10) return MALFORMED;
          this.reset();
          return i + 1;
      }
      i++;
    }
    return NEED_MORE;
  }
}
