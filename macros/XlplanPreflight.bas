Attribute VB_Name = "XlplanPreflight"
' xlplan: pre-flight check of a unit workbook before it is submitted.
'
' Run XlplanPreflight with the unit workbook active (Alt+F8). It checks, from the
' workbook's own manifest (see XlplanManifest):
'   * every required input is filled in;
'   * every input holds what its rule expects (a number within its bounds, a
'     choice from its list, a date), even when it was pasted past the validation;
'   * no cell of any visible sheet shows an error (#DIV/0!, #REF!, #NAME? ...);
'   * every completeness rule the Guide's readiness block shows is met (the
'     People split ties, actions end after they start, required groups filled).
' It lists the problems and selects the first one, so the manager can fix it
' there. The consolidator checks the same rules again when the file arrives;
' this is the early warning. Needs the XlplanManifest module.
Option Explicit

Private Const MAX_LISTED As Long = 15

Public Sub XlplanPreflight()
    Dim wb As Workbook, problems As Collection, report As String
    Set wb = ActiveWorkbook
    If wb Is Nothing Then Exit Sub
    If Not HasManifest(wb) Then
        MsgBox wb.Name & " was not built by xlplan: there is nothing to check.", _
            vbExclamation, "xlplan pre-flight"
        Exit Sub
    End If
    Set problems = XlplanProblems(wb)
    If problems.Count = 0 Then
        MsgBox "All required inputs are filled in and no cell shows an error." & vbLf & _
            "Ready to submit (XlplanSubmit).", vbInformation, "xlplan pre-flight: " & wb.Name
    Else
        report = ProblemReport(problems)
        GoToProblem wb, problems(1)
        MsgBox report, vbExclamation, "xlplan pre-flight: " & wb.Name
    End If
End Sub

' Every problem of the workbook: a Collection of Array(sheet, cell, message).
Public Function XlplanProblems(wb As Workbook) As Collection
    Dim problems As New Collection
    CheckInputs wb, problems
    CheckErrors wb, problems
    CheckReadiness wb, problems
    Set XlplanProblems = problems
End Function

' The problems as text for a message box: the first ones, then a count of the rest.
Public Function ProblemReport(problems As Collection) As String
    Dim i As Long, text As String, p As Variant
    text = problems.Count & " problem(s) to fix before submitting:" & vbLf
    For i = 1 To problems.Count
        If i > MAX_LISTED Then
            text = text & "... and " & (problems.Count - MAX_LISTED) & " more." & vbLf
            Exit For
        End If
        p = problems(i)
        text = text & "  " & p(0) & "!" & p(1) & ": " & p(2) & vbLf
    Next i
    ProblemReport = text & vbLf & "The first one is selected."
End Function

' Select a problem's cell (sheet activated, cell scrolled into view).
Public Sub GoToProblem(wb As Workbook, problem As Variant)
    On Error Resume Next ' a hidden sheet cannot be shown: the list still names it
    wb.Activate
    wb.Worksheets(CStr(problem(0))).Activate
    Application.Goto wb.Worksheets(CStr(problem(0))).Range(CStr(problem(1))), True
End Sub

' The completeness rules the Guide shows unmet: below the summary cell named Readiness,
' after a header row, one row per rule (where, the rule in words, its status).
Private Sub CheckReadiness(wb As Workbook, problems As Collection)
    Dim summary As Range, r As Range, where As String, bang As Long
    On Error Resume Next
    Set summary = wb.Names("Readiness").RefersToRange
    On Error GoTo 0
    If summary Is Nothing Then Exit Sub
    Set r = summary.Offset(4, -1)
    Do While Len(CStr(r.Value)) > 0
        If Len(CStr(r.Offset(0, 2).Value)) > 0 Then
            where = CStr(r.Value)
            bang = InStrRev(where, "!")
            If bang > 1 Then problems.Add Array(Left$(where, bang - 1), Mid$(where, bang + 1), _
                CStr(r.Offset(0, 1).Value) & " (unmet)")
        End If
        Set r = r.Offset(1, 0)
    Loop
End Sub

Private Sub CheckInputs(wb As Workbook, problems As Collection)
    Dim entry As Variant, rule As Variant, cell As Range
    Dim sheetName As String, address As String, what As String, message As String
    For Each entry In ManifestInputs(wb)
        sheetName = JsonText(entry, "sheet")
        address = JsonText(entry, "cell")
        what = Trim$(JsonText(entry, "item") & " " & JsonText(entry, "period"))
        JsonGet entry, "rule", rule
        Set cell = Nothing
        On Error Resume Next
        Set cell = wb.Worksheets(sheetName).Range(address)
        On Error GoTo 0
        If cell Is Nothing Then
            problems.Add Array(sheetName, address, "input cell is missing (" & what & ")")
        Else
            message = InputProblem(cell.Value, rule)
            If Len(message) > 0 Then problems.Add Array(sheetName, address, message & _
                IIf(Len(what) > 0, " (" & what & ")", ""))
        End If
    Next entry
End Sub

' What is wrong with an input's value under its rule, or "".
Private Function InputProblem(value As Variant, rule As Variant) As String
    Dim kind As String, required As Variant, bound As Variant, choices As Variant, c As Variant
    Dim found As Boolean
    kind = JsonText(rule, "kind")
    JsonGet rule, "required", required
    If IsError(value) Then
        InputProblem = "shows an error"
        Exit Function
    End If
    If IsEmpty(value) Or CStr(value) = "" Then
        If required = True Then InputProblem = "required, but empty"
        Exit Function
    End If
    Select Case kind
        Case "number", "integer", "ratio"
            If VarType(value) <> vbDouble And VarType(value) <> vbCurrency Then
                InputProblem = "expected a number, found " & CStr(value)
                Exit Function
            End If
            If kind = "integer" And value <> Int(value) Then
                InputProblem = "expected a whole number, found " & CStr(value)
                Exit Function
            End If
            JsonGet rule, "minimum", bound
            If Not IsEmpty(bound) And Not IsNull(bound) Then
                If value < bound Then InputProblem = CStr(value) & " is below the minimum " & _
                    CStr(bound)
            End If
            JsonGet rule, "maximum", bound
            If Not IsEmpty(bound) And Not IsNull(bound) Then
                If value > bound Then InputProblem = CStr(value) & " is above the maximum " & _
                    CStr(bound)
            End If
        Case "list"
            JsonGet rule, "choices", choices
            If IsObject(choices) Then
                For Each c In choices
                    If CStr(c) = CStr(value) Then found = True
                Next c
                If Not found Then InputProblem = CStr(value) & " is not one of the choices"
            End If
        Case "date"
            If VarType(value) <> vbDate Then InputProblem = "expected a date, found " & _
                CStr(value)
    End Select
End Function

' Every cell of a visible sheet that shows an error value (one bulk read per sheet).
Private Sub CheckErrors(wb As Workbook, problems As Collection)
    Dim ws As Worksheet, used As Range, values As Variant, r As Long, c As Long
    For Each ws In wb.Worksheets
        If ws.Visible = xlSheetVisible Then
            Set used = ws.UsedRange
            If used.Cells.Count = 1 Then
                If IsError(used.Value) Then problems.Add Array(ws.Name, _
                    used.Address(False, False), "shows " & ErrorText(used.Value))
            Else
                values = used.Value
                For r = 1 To UBound(values, 1)
                    For c = 1 To UBound(values, 2)
                        If IsError(values(r, c)) Then
                            problems.Add Array(ws.Name, used.Cells(r, c).Address(False, False), _
                                "shows " & ErrorText(values(r, c)))
                        End If
                    Next c
                Next r
            End If
        End If
    Next ws
End Sub

Private Function ErrorText(value As Variant) As String
    ' CStr of an error value is "Error 2007": the number says which error it is.
    Select Case Val(Mid$(CStr(value), 7))
        Case 2007: ErrorText = "#DIV/0!"
        Case 2042: ErrorText = "#N/A"
        Case 2029: ErrorText = "#NAME?"
        Case 2000: ErrorText = "#NULL!"
        Case 2036: ErrorText = "#NUM!"
        Case 2023: ErrorText = "#REF!"
        Case 2015: ErrorText = "#VALUE!"
        Case Else: ErrorText = "an error"
    End Select
End Function
