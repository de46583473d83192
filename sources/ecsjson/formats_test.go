package ecsjson

import "github.com/xferhunt/xferhunt/sources"

// formats is the registry of the formats this package reads, as
// sources/catalog.Formats builds it (catalog imports this package, so
// these tests cannot import catalog).
func formats() *sources.Formats {
	return sources.NewFormats(map[sources.Format]sources.ScanFunc{
		sources.ECSNDJSON:       Scan,
		sources.AuditbeatNDJSON: Scan,
		sources.JSONDocuments:   ScanDocuments,
	}, Sniff)
}
