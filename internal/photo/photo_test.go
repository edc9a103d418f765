package photo

import (
	"bytes"
	"errors"
	"github.com/confide-org/confide/internal/photo/phototest"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"runtime"
	"testing"
)

// TestExifStripped: a phone photo with GPS data and "turned clockwise":
// every size comes out the right way up (red on top), with no EXIF block
// and none of the location bytes.
func TestExifStripped(t *testing.T) {
	t.Parallel()
	const marker = "GPS 53.8008N 1.5491W LS6 2AB"
	in := phototest.WithExif(phototest.JPEG(phototest.Halves(480, 360)), 6, marker)
	if !bytes.Contains(in, []byte(marker)) || jpegOrientation(in) != 6 {
		t.Fatal("the test file does not carry its EXIF block")
	}
	if _, err := jpeg.Decode(bytes.NewReader(in)); err != nil {
		t.Fatalf("the test file is not a JPEG: %v", err)
	}
	p, err := Process(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Images) != len(Sizes) || p.Format != "jpeg" || len(p.Digest) != 16 {
		t.Fatalf("%d sizes, format %q, digest %q", len(p.Images), p.Format, p.Digest)
	}
	for _, im := range p.Images {
		for _, bad := range [][]byte{[]byte("Exif"), []byte(marker), []byte("53.8008"), {0xff, 0xe1}} {
			if bytes.Contains(im.JPEG, bad) {
				t.Errorf("size %d still holds %q", im.Size, bad)
			}
		}
		img, err := jpeg.Decode(bytes.NewReader(im.JPEG))
		if err != nil {
			t.Fatalf("size %d: %v", im.Size, err)
		}
		if b := img.Bounds(); b.Dx() != im.Size || b.Dy() != im.Size {
			t.Errorf("size %d is %v", im.Size, b)
		}
		// Turned clockwise, the left (red) half is now on top.
		top, bottom := img.At(im.Size/2, im.Size/8), img.At(im.Size/2, im.Size*7/8)
		if r, _, b, _ := top.RGBA(); r < b {
			t.Errorf("size %d: the top is not red (%v): orientation not applied", im.Size, top)
		}
		if r, _, b, _ := bottom.RGBA(); r > b {
			t.Errorf("size %d: the bottom is not blue (%v)", im.Size, bottom)
		}
	}
}

// TestRefusals: bombs, damaged, foreign, oversized and tiny files are
// refused with the error that says what to do, and the bomb is refused
// without decoding (well under 200 MB allocated in all).
func TestRefusals(t *testing.T) {
	t.Parallel()
	full := phototest.JPEG(phototest.Halves(400, 400))
	var pngSmall bytes.Buffer
	png.Encode(&pngSmall, phototest.Halves(100, 120))
	b := phototest.Bomb(20000)
	if len(b) > MaxBytes {
		t.Fatalf("the bomb is %d bytes, over the upload limit: it would not test the header check", len(b))
	}
	var strip bytes.Buffer
	png.Encode(&strip, image.NewGray(image.Rect(0, 0, MaxSide+1, 1)))
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"20,000 × 20,000 PNG bomb", b, ErrTooManyPx},
		{"a strip wider than 12,000 pixels", strip.Bytes(), ErrTooManyPx},
		{"truncated JPEG", full[:len(full)/2], ErrDamaged},
		{"JPEG header only", full[:20], ErrDamaged},
		{"GIF", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ErrNotAPicture},
		{"text", []byte("<svg xmlns='http://www.w3.org/2000/svg'></svg>"), ErrNotAPicture},
		{"empty", nil, ErrNotAPicture},
		{"over 10 MB", append(full[:3:3], make([]byte, MaxBytes)...), ErrTooLarge},
		{"too small", pngSmall.Bytes(), ErrTooSmall},
	} {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Process(bytes.NewReader(c.data))
			runtime.ReadMemStats(&after)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 200<<20 {
				t.Errorf("refusing it allocated %d MB", grew>>20)
			}
		})
	}
}

// TestFormats: PNG (with transparency, put on white) and WebP are read and
// come out as JPEG squares.
func TestFormats(t *testing.T) {
	t.Parallel()
	clear := image.NewNRGBA(image.Rect(0, 0, 300, 300))
	var pngBuf bytes.Buffer
	png.Encode(&pngBuf, clear)
	webpFile, err := os.ReadFile("testdata/halves.webp")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, format string
		data         []byte
	}{
		{"transparent PNG", "png", pngBuf.Bytes()},
		{"WebP", "webp", webpFile},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := Process(bytes.NewReader(c.data))
			if err != nil {
				t.Fatal(err)
			}
			if p.Format != c.format {
				t.Errorf("format %q", p.Format)
			}
			img, err := jpeg.Decode(bytes.NewReader(p.Images[0].JPEG))
			if err != nil {
				t.Fatal(err)
			}
			if c.format == "png" {
				if r, g, b, _ := img.At(10, 10).RGBA(); r < 0xf000 || g < 0xf000 || b < 0xf000 {
					t.Errorf("transparent pixels came out %v, not white", img.At(10, 10))
				}
			}
		})
	}
}

// TestOrientations: each EXIF orientation value turns a marked square
// picture back the right way up.
func TestOrientations(t *testing.T) {
	t.Parallel()
	// A 4 × 4 picture with one white pixel at (0, 0) as seen upright.
	// Stored with orientation o, the camera wrote it so that applying o
	// brings the pixel back to (0, 0); here we check orient's mapping of
	// each stored corner.
	stored := map[int]image.Point{1: {0, 0}, 2: {3, 0}, 3: {3, 3}, 4: {0, 3}, 5: {0, 0}, 6: {0, 3}, 7: {3, 3}, 8: {3, 0}}
	for o, at := range stored {
		img := image.NewRGBA(image.Rect(0, 0, 4, 4))
		img.Set(at.X, at.Y, color.White)
		got := orient(img, o)
		if r, _, _, _ := got.At(0, 0).RGBA(); r != 0xffff {
			t.Errorf("orientation %d: the marked corner did not come back to the top left", o)
		}
	}
}
