// Package photo turns a therapist's uploaded picture into the few fixed
// sizes the site shows. Every upload is decoded and drawn again from its
// pixels, so nothing of the original file survives: no EXIF (camera,
// time, GPS position), no comments, no colour profiles that could carry
// data, and no bytes a browser might sniff as something else. Files are
// checked before they are decoded: a small file that claims to be a
// picture of 400 million pixels (a "decompression bomb") is refused from
// its header, so memory stays bounded whatever arrives.
package photo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// MaxBytes is the largest upload accepted: a modern phone's JPEG is 2–6
// MB; 10 MB leaves room without inviting abuse.
const MaxBytes = 10 << 20

// MaxPixels bounds a picture's width × height before decoding: 50
// megapixels (a high-end phone is 48) costs at most 200 MB as RGBA, the
// whole budget for one upload.
const MaxPixels = 50_000_000

// MaxSide bounds either side, so a 1 × 50,000,000 strip is refused too.
const MaxSide = 12_000

// MinSide is the smallest side worth showing at the largest size.
const MinSide = 200

// Sizes are the square sizes made from every photo, in pixels: the
// profile page, the result card, and twice each for high-density screens.
var Sizes = []int{96, 192, 320, 640}

// Quality is the JPEG quality of every size: no visible loss for a face.
const Quality = 85

// Problems a person can fix; each says what to do.
var (
	ErrTooLarge    = errors.New("the photo is larger than 10 MB: choose a smaller one, or save it at a lower quality")
	ErrNotAPicture = errors.New("the file is not a JPEG, PNG or WebP picture: choose a photo in one of those formats")
	ErrDamaged     = errors.New("the picture could not be read: it may be damaged or incomplete; try saving it again")
	ErrTooManyPx   = errors.New("the picture is too big to process (more than 50 megapixels, or a side over 12,000 pixels): make it smaller and try again")
	ErrTooSmall    = errors.New("the picture is too small: choose one at least 200 pixels on each side")
)

// Image is one size of a processed photo.
type Image struct {
	Size int // width and height, in pixels
	JPEG []byte
}

// Processed is an upload made safe: every size, and a digest of the
// largest that names this version of the photo (for cache-busting URLs).
type Processed struct {
	Images []Image
	Digest string
	// Format is what the upload was: "jpeg", "png" or "webp".
	Format string
}

// Process reads an upload (at most MaxBytes), checks its header, decodes
// it, crops it to a centred square, draws each of Sizes afresh and turns
// it as a JPEG's orientation tag says.
func Process(r io.Reader) (*Processed, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("photo: read: %w", err)
	}
	if len(data) > MaxBytes {
		return nil, ErrTooLarge
	}
	format, decodeConfig, decode := formatOf(data)
	if format == "" {
		return nil, ErrNotAPicture
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, ErrDamaged
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxSide || cfg.Height > MaxSide || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, ErrTooManyPx
	}
	if cfg.Width < MinSide || cfg.Height < MinSide {
		return nil, ErrTooSmall
	}
	src, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, ErrDamaged
	}
	orientation := 1
	if format == "jpeg" {
		orientation = jpegOrientation(data)
	}
	// The centred square of the turned picture is the turned centred
	// square: scale first, turn the small result, and never hold a second
	// full-size copy.
	square := centreSquare(src.Bounds())
	out := &Processed{Format: format}
	for _, size := range Sizes {
		dst := image.NewRGBA(image.Rect(0, 0, size, size))
		// A transparent PNG goes on white, not black.
		draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, square, draw.Over, nil)
		var b bytes.Buffer
		if err := jpeg.Encode(&b, orient(dst, orientation), &jpeg.Options{Quality: Quality}); err != nil {
			return nil, fmt.Errorf("photo: encode %d: %w", size, err)
		}
		out.Images = append(out.Images, Image{Size: size, JPEG: b.Bytes()})
	}
	sum := sha256.Sum256(out.Images[len(out.Images)-1].JPEG)
	out.Digest = hex.EncodeToString(sum[:8])
	return out, nil
}

type configFunc func(io.Reader) (image.Config, error)
type decodeFunc func(io.Reader) (image.Image, error)

// formatOf tells the format from the file's first bytes, never from its
// name or the browser's word for it.
func formatOf(b []byte) (string, configFunc, decodeFunc) {
	switch {
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return "jpeg", jpeg.DecodeConfig, jpeg.Decode
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "png", png.DecodeConfig, png.Decode
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "webp", webp.DecodeConfig, webp.Decode
	}
	return "", nil, nil
}

// centreSquare is the largest square in the middle of r: portraits lose
// a little top and bottom, landscapes the sides.
func centreSquare(r image.Rectangle) image.Rectangle {
	w, h := r.Dx(), r.Dy()
	if w > h {
		x := r.Min.X + (w-h)/2
		return image.Rect(x, r.Min.Y, x+h, r.Max.Y)
	}
	y := r.Min.Y + (h-w)/2
	return image.Rect(r.Min.X, y, r.Max.X, y+w)
}
