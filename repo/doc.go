// Package repo holds FastTrack's repository building blocks and the errors
// repositories return.
package repo
