// Package phototest makes the awkward pictures that tests of photo
// uploads need: a phone photo carrying EXIF orientation and GPS data, and
// a real decompression bomb.
package phototest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
)

// Halves is a w × h picture, red on the left half and blue on the right,
// so that a test can tell which way up it came out.
func Halves(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{200, 30, 30, 255}
			if x >= w/2 {
				c = color.RGBA{30, 30, 200, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// JPEG encodes img at quality 90.
func JPEG(img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err) // encoding into memory cannot fail
	}
	return b.Bytes()
}

// WithExif inserts an APP1 Exif block after the JPEG's SOI: a little-endian
// TIFF with IFD0 holding the orientation and a pointer to a GPS IFD whose
// latitude reference and a marker string stand for a real location.
func WithExif(jpg []byte, orientation uint16, marker string) []byte {
	le := binary.LittleEndian
	var t bytes.Buffer
	t.WriteString("II")
	binary.Write(&t, le, uint16(42))
	binary.Write(&t, le, uint32(8)) // IFD0 at 8
	// IFD0: 2 entries.
	binary.Write(&t, le, uint16(2))
	entry := func(tag, typ uint16, count, value uint32) {
		binary.Write(&t, le, tag)
		binary.Write(&t, le, typ)
		binary.Write(&t, le, count)
		binary.Write(&t, le, value)
	}
	entry(0x0112, 3, 1, uint32(orientation)) // SHORT, value in the first two bytes
	gpsOff := uint32(8 + 2 + 2*12 + 4)
	entry(0x8825, 4, 1, gpsOff) // GPS IFD pointer
	binary.Write(&t, le, uint32(0))
	// GPS IFD: latitude reference "N" and a user comment-like ASCII marker.
	binary.Write(&t, le, uint16(2))
	entry(0x0001, 2, 2, uint32('N'))
	strOff := gpsOff + 2 + 2*12 + 4
	entry(0x0002, 2, uint32(len(marker)+1), strOff)
	binary.Write(&t, le, uint32(0))
	t.WriteString(marker)
	t.WriteByte(0)
	seg := append([]byte("Exif\x00\x00"), t.Bytes()...)
	app1 := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(app1[2:], uint16(len(seg)+2))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, app1...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// pngChunk appends one PNG chunk.
func pngChunk(b *bytes.Buffer, typ string, data []byte) {
	binary.Write(b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	binary.Write(b, binary.BigEndian, crc.Sum32())
}

// Bomb is a real side × side grey PNG of zeros: at 20,000 that is 400 MB
// of pixels in a file of a few hundred kilobytes.
func Bomb(side int) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(side))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(side))
	ihdr[8], ihdr[9] = 8, 0 // 8-bit greyscale
	pngChunk(&b, "IHDR", ihdr)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	row := make([]byte, side+1)
	for range side {
		zw.Write(row)
	}
	zw.Close()
	pngChunk(&b, "IDAT", z.Bytes())
	pngChunk(&b, "IEND", nil)
	return b.Bytes()
}
