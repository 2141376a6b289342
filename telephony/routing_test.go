package telephony_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/switchboard-go/switchboard/telephony"
)

func TestRouteRules(t *testing.T) {
	crm := map[string]string{"+14155550001": "ann@example.com"}
	hours := telephony.Hours{Location: time.UTC, Open: 9 * time.Hour, Close: 17 * time.Hour}
	monday10 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	sunday := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	night := telephony.Target{Type: telephony.TargetTeam, ID: "night"}
	uk := telephony.Target{Type: telephony.TargetTeam, ID: "uk"}
	fallback := telephony.Target{Type: telephony.TargetCallCenter, ID: "main"}
	route := telephony.Route(fallback,
		telephony.OutsideHours(hours, night, nil),
		telephony.LastAgent(func(ctx context.Context, from string) (string, error) { return crm[from], nil }),
		telephony.ByCallerPrefix(map[string]telephony.Target{"+44": uk, "+4420": telephony.UserTarget("london")}),
	)
	for _, tc := range []struct {
		from string
		at   time.Time
		want telephony.Target
	}{
		{"+14155550001", monday10, telephony.UserByEmail("ann@example.com")},
		{"+14155550001", sunday, night},
		{"+442071838750", monday10, telephony.UserTarget("london")},
		{"+441612345678", monday10, uk},
		{"+33123456789", monday10, fallback},
	} {
		got, err := route(t.Context(), telephony.InboundCall{From: tc.from, StartedAt: tc.at})
		assert.NoError(t, err, "%s at %v: got %+v, %v want %+v", tc.from, tc.at, got, err, tc.want)
		assert.Equal(t, tc.want, got, "%s at %v: got %+v, %v want %+v", tc.from, tc.at, got, err, tc.want)
	}
	boom := errors.New("crm down")
	failing := telephony.Route(fallback, telephony.LastAgent(func(context.Context, string) (string, error) { return "", boom }))
	_, err := failing(t.Context(), telephony.InboundCall{From: "+14155550001"})
	assert.ErrorIs(t, err, boom, "rule error swallowed: %v", err)
	_, err = telephony.Route(telephony.Target{})(t.Context(), telephony.InboundCall{})
	assert.ErrorIs(t, err, telephony.ErrNoRoute)
}

func TestHoursClockTimeAndOvernight(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	day := telephony.Hours{Location: ny, Days: []time.Weekday{time.Sunday}, Open: 9 * time.Hour, Close: 17 * time.Hour}
	dst := func(h, m int) time.Time { return time.Date(2024, 3, 10, h, m, 0, 0, ny) } // clocks go forward at 02:00
	assert.True(t, day.Contains(dst(9, 30)), "opening hours wrong on a daylight-saving day: closed at 09:30")
	assert.False(t, day.Contains(dst(17, 30)), "opening hours wrong on a daylight-saving day: open at 17:30")
	night := telephony.Hours{Location: time.UTC, Days: []time.Weekday{time.Monday}, Open: 22 * time.Hour, Close: 6 * time.Hour}
	mon := func(h int) time.Time { return time.Date(2026, 11, 23, h, 0, 0, 0, time.UTC) }
	assert.True(t, night.Contains(mon(23)), "overnight hours wrong: closed at 23:00")
	assert.True(t, night.Contains(mon(3)), "overnight hours wrong: closed at 03:00")
	assert.False(t, night.Contains(mon(12)), "overnight hours wrong: open at 12:00")
}
