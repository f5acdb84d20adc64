package testkit

import (
	"context"
	"testing"
	"time"
)

func TestLogBufferWaitContains(t *testing.T) {
	b := NewLogBuffer()
	go func() {
		time.Sleep(5 * time.Millisecond)
		log := b.Logger()
		log.Info().Msg("hello there")
	}()
	b.WaitContains(t, "hello there")
	if got := b.String(); got == "" {
		t.Fatal("String() is empty after a write")
	}
}

func TestClockSleepAdvances(t *testing.T) {
	c := NewClock()
	start := c.Now()
	if err := c.Sleep(context.Background(), 3*time.Second); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Second)
	if got, want := c.Now().Sub(start), 4*time.Second; got != want {
		t.Errorf("clock moved %v, want %v", got, want)
	}
	if got := c.Sleeps(); len(got) != 1 || got[0] != 3*time.Second {
		t.Errorf("Sleeps() = %v, want [3s]", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Second); err == nil {
		t.Error("Sleep with a cancelled context returned nil")
	}
}

func TestClockAt(t *testing.T) {
	c := NewClock()
	start := c.Now()
	fired := func(ch <-chan time.Time) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	past, soon, late := c.At(start), c.At(start.Add(time.Second)), c.At(start.Add(time.Minute))
	if !fired(past) {
		t.Error("At(now) did not fire at once")
	}
	if fired(soon) || fired(late) {
		t.Fatal("a future At fired before the clock moved")
	}
	c.Advance(time.Second)
	if !fired(soon) {
		t.Error("At(+1s) did not fire after Advance(1s)")
	}
	if fired(late) {
		t.Error("At(+1m) fired after Advance(1s)")
	}
	_ = c.Sleep(context.Background(), time.Minute)
	if !fired(late) {
		t.Error("At(+1m) did not fire after Sleep(1m)")
	}
}

func TestTail(t *testing.T) {
	if got, want := Tail("a\nb\nc\n", 2), "b\nc"; got != want {
		t.Errorf("Tail = %q, want %q", got, want)
	}
}
