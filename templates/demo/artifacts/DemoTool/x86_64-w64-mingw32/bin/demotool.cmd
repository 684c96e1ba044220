@echo off
type "%~dp0\..\share\demotool\banner.txt"
