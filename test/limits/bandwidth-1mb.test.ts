// Bandwidth cap of 1 MB/s per customer (up + down): within ±5% over a 10 s
// window with 1 socket and with 20 sockets sharing the cap (the accuracy
// windows issue 4 asks for, the only timed assertions of the suite), and the
// optional per-connection cap.
import { capAccuracySuite } from './bandwidth.ts';

capAccuracySuite(
  1_000_000,
  [
    [1, 'forward'],
    [20, 'connect'],
  ],
  true,
);
