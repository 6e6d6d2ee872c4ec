Attribute VB_Name = "XlplanManifest"
' xlplan: read the hidden manifest of a workbook that `xlplan build` wrote.
'
' Every xlplan workbook carries a very hidden sheet "_xlplan" with key/value rows
' (column A key, column B value, from row 2): plan_id, plan_name, spec_hash, unit,
' template_version, built_at, fingerprint, sheets, inputs. A value longer than an
' Excel cell holds continues on rows "inputs#1", "inputs#2", ... in order.
' "inputs" is JSON: a list of {"sheet", "cell", "item", "period", "rule"} where
' "rule" has "kind" (number, integer, ratio, list, date, text), optional "minimum",
' "maximum", "choices" and "required": true.
'
' The other xlplan modules (XlplanPreflight, XlplanSubmit) use these functions.
' Works in Excel for Windows and for Mac: no Scripting.Dictionary, no
' FileSystemObject. JSON objects are returned as a Collection of Array(key, value)
' pairs, JSON lists as a Collection, so JsonGet looks a key up.
Option Explicit

Public Const MANIFEST_SHEET As String = "_xlplan"

Private pText As String
Private pPos As Long

' The value of a manifest key ("" when missing), continuation rows joined.
' Raises error 1001 when the workbook has no manifest sheet.
Public Function ManifestValue(wb As Workbook, key As String) As String
    Dim ws As Worksheet, r As Long, k As String, result As String
    Set ws = ManifestSheet(wb)
    r = 2
    Do While Len(CStr(ws.Cells(r, 1).Value)) > 0
        k = CStr(ws.Cells(r, 1).Value)
        If k = key Or Left$(k, Len(key) + 1) = key & "#" Then
            result = result & CStr(ws.Cells(r, 2).Value)
        End If
        r = r + 1
    Loop
    ManifestValue = result
End Function

' The manifest sheet, or error 1001 naming the workbook.
Public Function ManifestSheet(wb As Workbook) As Worksheet
    On Error Resume Next
    Set ManifestSheet = wb.Worksheets(MANIFEST_SHEET)
    On Error GoTo 0
    If ManifestSheet Is Nothing Then
        Err.Raise vbObjectError + 1001, "xlplan", wb.Name & " was not built by xlplan " & _
            "(it has no " & MANIFEST_SHEET & " sheet)."
    End If
End Function

' True when the workbook has an xlplan manifest.
Public Function HasManifest(wb As Workbook) As Boolean
    Dim ws As Worksheet
    On Error Resume Next
    Set ws = wb.Worksheets(MANIFEST_SHEET)
    HasManifest = Not (ws Is Nothing)
End Function

' The workbook's sheet of stable key (e.g. "Live"), by the name the manifest gives it: a
' Chinese book shows its sheets in Chinese. Nothing when the workbook has no such sheet.
Public Function SheetOfKey(wb As Workbook, key As String) As Worksheet
    Dim shown As String
    shown = key
    If HasManifest(wb) Then shown = ShownSheetName(ManifestValue(wb, "sheet_names"), key)
    On Error Resume Next
    Set SheetOfKey = wb.Worksheets(shown)
End Function

' The input cells listed in the manifest: a Collection of JSON objects (see JsonGet).
Public Function ManifestInputs(wb As Workbook) As Collection
    Dim parsed As Variant
    ParseJson ManifestValue(wb, "inputs"), parsed
    If IsObject(parsed) Then
        Set ManifestInputs = parsed
    Else
        Set ManifestInputs = New Collection
    End If
End Function

' ---------------------------------------------------------------- a small JSON reader

' Parse JSON text into result (a Collection for objects and lists, else a value).
Public Sub ParseJson(text As String, ByRef result As Variant)
    pText = text
    pPos = 1
    If Len(Trim$(text)) = 0 Then
        Set result = New Collection
        Exit Sub
    End If
    ReadValue result
End Sub

' The value of key in a parsed JSON object (Empty when missing); objects come back with Set.
Public Sub JsonGet(obj As Variant, key As String, ByRef result As Variant)
    Dim pair As Variant
    result = Empty
    If Not IsObject(obj) Then Exit Sub
    For Each pair In obj
        If IsArray(pair) Then
            If pair(0) = key Then
                If IsObject(pair(1)) Then
                    Set result = pair(1)
                Else
                    result = pair(1)
                End If
                Exit Sub
            End If
        End If
    Next pair
End Sub

' The name shown for the sheet of stable key, from the manifest's "sheet_names" JSON
' (written for a language other than English); the key itself when it is not there.
Public Function ShownSheetName(namesJson As String, key As String) As String
    Dim names As Variant, shown As String
    ParseJson namesJson, names
    shown = JsonText(names, key)
    If Len(shown) = 0 Then shown = key
    ShownSheetName = shown
End Function

' A text field of a parsed JSON object ("" when missing or not text).
Public Function JsonText(obj As Variant, key As String) As String
    Dim v As Variant
    JsonGet obj, key, v
    If Not IsObject(v) And Not IsNull(v) And Not IsEmpty(v) Then JsonText = CStr(v)
End Function

Private Sub SkipSpace()
    Do While pPos <= Len(pText)
        Select Case Mid$(pText, pPos, 1)
            Case " ", vbTab, vbCr, vbLf
                pPos = pPos + 1
            Case Else
                Exit Do
        End Select
    Loop
End Sub

Private Sub ReadValue(ByRef result As Variant)
    SkipSpace
    Select Case Mid$(pText, pPos, 1)
        Case "{"
            Set result = ReadObject()
        Case "["
            Set result = ReadList()
        Case """"
            result = ReadString()
        Case "t"
            pPos = pPos + 4
            result = True
        Case "f"
            pPos = pPos + 5
            result = False
        Case "n"
            pPos = pPos + 4
            result = Null
        Case Else
            result = ReadNumber()
    End Select
End Sub

Private Function ReadObject() As Collection
    Dim items As New Collection, key As String, value As Variant
    pPos = pPos + 1 ' {
    SkipSpace
    If Mid$(pText, pPos, 1) = "}" Then
        pPos = pPos + 1
        Set ReadObject = items
        Exit Function
    End If
    Do
        SkipSpace
        key = ReadString()
        SkipSpace
        pPos = pPos + 1 ' :
        value = Empty
        ReadValue value
        items.Add Array(key, value)
        SkipSpace
        If Mid$(pText, pPos, 1) = "," Then
            pPos = pPos + 1
        Else
            pPos = pPos + 1 ' }
            Exit Do
        End If
    Loop
    Set ReadObject = items
End Function

Private Function ReadList() As Collection
    Dim items As New Collection, value As Variant
    pPos = pPos + 1 ' [
    SkipSpace
    If Mid$(pText, pPos, 1) = "]" Then
        pPos = pPos + 1
        Set ReadList = items
        Exit Function
    End If
    Do
        value = Empty
        ReadValue value
        items.Add value
        SkipSpace
        If Mid$(pText, pPos, 1) = "," Then
            pPos = pPos + 1
        Else
            pPos = pPos + 1 ' ]
            Exit Do
        End If
    Loop
    Set ReadList = items
End Function

Private Function ReadString() As String
    ' pPos is on the opening quote; handles the escapes JSON allows.
    Dim out As String, ch As String, start As Long
    pPos = pPos + 1
    start = pPos
    Do While pPos <= Len(pText)
        ch = Mid$(pText, pPos, 1)
        If ch = """" Then
            out = out & Mid$(pText, start, pPos - start)
            pPos = pPos + 1
            ReadString = out
            Exit Function
        ElseIf ch = "\" Then
            out = out & Mid$(pText, start, pPos - start)
            ch = Mid$(pText, pPos + 1, 1)
            Select Case ch
                Case "n": out = out & vbLf
                Case "r": out = out & vbCr
                Case "t": out = out & vbTab
                Case "b": out = out & Chr$(8)
                Case "f": out = out & Chr$(12)
                Case "u"
                    out = out & ChrW$(CLng("&H" & Mid$(pText, pPos + 2, 4)))
                    pPos = pPos + 4
                Case Else: out = out & ch ' \" \\ \/
            End Select
            pPos = pPos + 2
            start = pPos
        Else
            pPos = pPos + 1
        End If
    Loop
    ReadString = out & Mid$(pText, start)
End Function

Private Function ReadNumber() As Double
    ' JSON numbers use "." whatever the system's decimal separator: Val reads them so.
    Dim start As Long
    start = pPos
    Do While pPos <= Len(pText)
        If InStr("+-0123456789.eE", Mid$(pText, pPos, 1)) = 0 Then Exit Do
        pPos = pPos + 1
    Loop
    ReadNumber = Val(Mid$(pText, start, pPos - start))
End Function
