// Package assets holds the files ikesim embeds: fonts, the web view's HTML, CSS and
// JavaScript, explanation texts and the test PKI. It is a leaf: it imports nothing of
// ikesim.
package assets
