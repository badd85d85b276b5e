// Bandwidth cap of 10 MB/s per customer (up + down): within ±5% over a 10 s
// window with 1 socket and with 20 sockets sharing the cap.
import { capAccuracySuite } from './bandwidth.ts';

capAccuracySuite(10_000_000, [
  [1, 'connect'],
  [20, 'forward'],
]);
