Attribute VB_Name = "XlplanRefresh"
' xlplan: recalculate the master's Live sheet, whose cells call the XLPLAN_* functions.
'
' The Live sheet (xlplan build --with-functions) computes its roll-ups, variances,
' lights and OKR progress with the xlplan add-in's functions (xlwings Lite, or the
' classic xlwings add-in on Windows). Excel recalculates them when their inputs
' change; run XlplanRefresh (Alt+F8) to call every one of them again now, e.g.
' after loading the add-in into an open workbook. If cells still show #NAME?, the
' functions are not loaded and the message says how to load them.
Option Explicit

Private Const LIVE_SHEET As String = "Live"
Private Const MSG_TITLE As String = "xlplan refresh"

Public Sub XlplanRefresh()
    Dim ws As Worksheet, missing As Long
    If ActiveWorkbook Is Nothing Then Exit Sub
    Set ws = SheetOfKey(ActiveWorkbook, LIVE_SHEET) ' by its stable key, in any language
    If ws Is Nothing Then
        MsgBox ActiveWorkbook.Name & " has no " & LIVE_SHEET & " sheet. Build the master " & _
            "with: xlplan build PLAN --with-functions", vbExclamation, MSG_TITLE
        Exit Sub
    End If
    On Error Resume Next
    ws.UsedRange.Dirty ' mark every formula of the sheet as needing calculation ...
    If Err.Number <> 0 Then ' ... or, where that is refused, recalculate everything
        Err.Clear
        Application.CalculateFull
    End If
    On Error GoTo 0
    ws.Calculate ' ... then call the functions again, once per block

    missing = NameErrors(ws)
    If missing > 0 Then
        MsgBox missing & " cell(s) of the " & ws.Name & " sheet show #NAME?: the xlplan " & _
            "functions are not loaded." & vbLf & vbLf & _
            "xlwings Lite (Windows, Mac, web): run  xlplan addin lite  and paste main.py and " & _
            "requirements.txt into xlwings Lite." & vbLf & _
            "Windows with Python: run  xlplan addin conf , then Import Functions on the " & _
            "xlwings tab.", vbExclamation, MSG_TITLE
    Else
        Application.StatusBar = "xlplan: " & ws.Name & " sheet recalculated"
    End If
End Sub

' How many cells of the sheet show #NAME? (an unknown function).
Private Function NameErrors(ws As Worksheet) As Long
    Dim values As Variant, r As Long, c As Long, n As Long
    If ws.UsedRange.Cells.Count = 1 Then
        If IsError(ws.UsedRange.Value) Then
            If ws.UsedRange.Value = CVErr(xlErrName) Then n = 1
        End If
        NameErrors = n
        Exit Function
    End If
    values = ws.UsedRange.Value
    For r = 1 To UBound(values, 1)
        For c = 1 To UBound(values, 2)
            If IsError(values(r, c)) Then
                If values(r, c) = CVErr(xlErrName) Then n = n + 1
            End If
        Next c
    Next r
    NameErrors = n
End Function
