package eioparser

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// The fuzz targets hold every decoder to: no panic on any input; errors
// are ErrMalformed (or ErrTooLarge for payload bounds); and what decodes
// re-encodes to an equal packet. For the v4 forms and v3 packets the
// encoding is canonical, so it also gives back the input byte for byte.

var fuzzLimits = Limits{MaxBytes: 1 << 16, MaxPackets: 64}

func addSeeds(f *testing.F) {
	for _, s := range decodeCases {
		f.Add([]byte(s))
	}
	for _, c := range v4Packets {
		f.Add([]byte(c.wire))
	}
	f.Add([]byte{4, 0, 1, 2})
	f.Add([]byte{0xff, 0xfe, '4'})
}

func checkDecodeErr(t *testing.T, err error) {
	t.Helper()
	if err != nil && !(errors.Is(err, ErrMalformed) || errors.Is(err, ErrTooLarge)) {
		t.Fatalf("error %v is neither ErrMalformed nor ErrTooLarge", err)
	}
}

func FuzzDecodePacket(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePacket(b)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		require.True(t, p.Type.Valid())
		require.False(t, p.Binary && p.Type != Message)
		enc := AppendPacket(nil, p)
		require.Equal(t, b, enc, "canonical")
		q, err := DecodePacket(enc)
		require.NoError(t, err)
		require.Equal(t, p, q)
	})
}

func FuzzDecodeFrame(f *testing.F) {
	for _, s := range decodeCases {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, binary bool) {
		p, err := DecodeFrame(b, binary)
		if err != nil {
			require.False(t, binary, "binary frames always decode")
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		enc, bin := AppendFrame(nil, p)
		q, err := DecodeFrame(enc, bin)
		require.NoError(t, err)
		require.Equal(t, p, q)
		if binary || b[0] != 'b' {
			require.Equal(t, binary, bin)
			require.Equal(t, string(b), string(enc))
		}
	})
}

func FuzzDecodePayload(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := DecodePayload(b, fuzzLimits)
		checkDecodeErr(t, err)
		if err != nil {
			require.Nil(t, ps)
			return
		}
		require.NotEmpty(t, ps)
		require.LessOrEqual(t, len(ps), fuzzLimits.MaxPackets)
		enc, err := AppendPayload(nil, ps)
		require.NoError(t, err, "decoded packets are encodable")
		require.Equal(t, b, enc, "canonical")
		qs, err := DecodePayload(enc, Limits{})
		require.NoError(t, err)
		require.Equal(t, ps, qs)
	})
}

func FuzzDecodePacketV3(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePacketV3(b)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		require.True(t, p.Type.Valid())
		enc := AppendPacketV3(nil, p)
		require.Equal(t, b, enc, "canonical")
		q, err := DecodePacketV3(enc)
		require.NoError(t, err)
		require.Equal(t, p, q)
	})
}

func FuzzDecodeFrameV3(f *testing.F) {
	for _, s := range decodeCases {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Add([]byte{4, 0, 1, 2, 3, 4, 5}, true)
	f.Fuzz(func(t *testing.T, b []byte, binary bool) {
		p, err := DecodeFrameV3(b, binary)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		require.True(t, p.Type.Valid())
		enc, bin := AppendFrameV3(nil, p)
		q, err := DecodeFrameV3(enc, bin)
		require.NoError(t, err)
		require.Equal(t, p, q)
		if binary || b[0] != 'b' {
			require.Equal(t, binary, bin)
			require.Equal(t, string(b), string(enc))
		}
	})
}

func FuzzDecodePayloadV3(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := DecodePayloadV3(b, fuzzLimits)
		checkDecodeErr(t, err)
		if err != nil {
			require.Nil(t, ps)
			return
		}
		require.LessOrEqual(t, len(ps), fuzzLimits.MaxPackets)
		enc := AppendPayloadV3(nil, ps)
		qs, err := DecodePayloadV3(enc, Limits{})
		require.NoError(t, err)
		if len(ps) == 0 {
			require.Empty(t, qs)
			return
		}
		require.Equal(t, ps, qs)
		// A fixed point after one round: leading zeros and empty records
		// are gone.
		require.Equal(t, enc, AppendPayloadV3(nil, qs))
	})
}

func FuzzDecodeBinaryPayloadV3(f *testing.F) {
	for _, b := range binaryPayloadCases {
		f.Add(b)
	}
	f.Add(AppendBinaryPayloadV3(nil, benchPayload()))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := DecodeBinaryPayloadV3(b, fuzzLimits)
		checkDecodeErr(t, err)
		if err != nil {
			require.Nil(t, ps)
			return
		}
		require.NotEmpty(t, ps)
		require.LessOrEqual(t, len(ps), fuzzLimits.MaxPackets)
		enc := AppendBinaryPayloadV3(nil, ps)
		qs, err := DecodeBinaryPayloadV3(enc, Limits{})
		require.NoError(t, err)
		require.Equal(t, ps, qs)
		require.Equal(t, enc, AppendBinaryPayloadV3(nil, qs), "a fixed point")
	})
}
