"""The SPDY/3.1 framing kubectl's port-forward uses, checked against the protocol's fixed facts."""

import struct
import zlib

from kftui.sandbox.kube import spdy


def test_dictionary_is_the_one_every_spdy3_peer_primes_zlib_with() -> None:
    # A peer's zlib header carries the dictionary's Adler-32; a different dictionary cannot inflate its headers.
    assert (len(spdy.DICTIONARY), zlib.adler32(spdy.DICTIONARY)) == (1423, 3821447106)


def test_frames_split_across_reads_are_reassembled() -> None:
    wire = spdy.control(spdy.PING, 0, struct.pack(">I", 7)) + spdy.data(3, b"hello", fin=True)
    decoder = spdy.Decoder()
    frames = decoder.feed(wire[:5]) + decoder.feed(wire[5:13]) + decoder.feed(wire[13:])
    assert [(f.type, f.stream, f.flags, f.payload) for f in frames] == [
        (spdy.PING, 7, 0, struct.pack(">I", 7)), (0, 3, spdy.FLAG_FIN, b"hello")]


def test_header_blocks_round_trip_through_the_shared_zlib_streams() -> None:
    deflate = zlib.compressobj(zdict=spdy.DICTIONARY)
    inflate = zlib.decompressobj(zdict=spdy.DICTIONARY)
    for headers in ({"streamtype": "error", "port": "8888", "requestid": "0"}, {"streamtype": "data", "port": "80"}):
        block = deflate.compress(spdy.encode_headers(headers)) + deflate.flush(zlib.Z_SYNC_FLUSH)
        assert spdy.decode_headers(inflate.decompress(block)) == headers
