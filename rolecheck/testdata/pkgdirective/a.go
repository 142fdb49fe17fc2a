package pkgdirective // want package:"calls example.com/fixtures/pkgdirective: 4"

import "context"

var ctx = context.Background()
