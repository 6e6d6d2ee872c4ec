Attribute VB_Name = "XlplanSubmit"
' xlplan: submit a unit workbook as a clean .xlsx copy, named the way finance files it.
'
' Run XlplanSubmit with the filled-in unit workbook active (Alt+F8). It
'   1. runs the pre-flight check (XlplanPreflight) and, if anything is wrong, shows
'      the problems and asks whether to submit anyway (default: no, go and fix);
'   2. recalculates, so the values saved with the formulas are current (the
'      consolidator compares them with its own recalculation);
'   3. asks for a folder (the shared inbox, or anywhere to e-mail it from) and saves
'      a copy there named <plan-id>-<UNIT>-<yyyymmdd-hhmm>.xlsx, e.g.
'      huaxin-2027-R-GD-20270115-0930.xlsx, with plan id and unit read from the
'      workbook's manifest.
' The copy is a plain .xlsx (macro-free) even if the open workbook is an .xlsm;
' the open workbook itself is not changed or renamed. Needs the XlplanManifest and
' XlplanPreflight modules.
Option Explicit

Private Const MSG_TITLE As String = "xlplan submit"
Private Const XLSX_FORMAT As Long = 51 ' xlOpenXMLWorkbook
Private Const FOLDER_PICKER As Long = 4 ' msoFileDialogFolderPicker

Public Sub XlplanSubmit()
    Dim wb As Workbook, planId As String, unit As String, problems As Collection
    Dim folder As String, target As String
    Set wb = ActiveWorkbook
    If wb Is Nothing Then Exit Sub
    If Not HasManifest(wb) Then
        MsgBox wb.Name & " was not built by xlplan: only a unit workbook can be submitted.", _
            vbExclamation, MSG_TITLE
        Exit Sub
    End If
    planId = ManifestValue(wb, "plan_id")
    unit = ManifestValue(wb, "unit")
    If Len(unit) = 0 Then
        MsgBox wb.Name & " is the master workbook, not a unit's: there is nothing to submit.", _
            vbExclamation, MSG_TITLE
        Exit Sub
    End If

    Set problems = XlplanProblems(wb)
    If problems.Count > 0 Then
        If MsgBox(ProblemReport(problems) & vbLf & vbLf & "Submit anyway?", _
                  vbExclamation + vbYesNo + vbDefaultButton2, MSG_TITLE) <> vbYes Then
            GoToProblem wb, problems(1)
            Exit Sub
        End If
    End If

    folder = PickFolder(wb)
    If Len(folder) = 0 Then Exit Sub
    If Right$(folder, 1) <> Application.PathSeparator Then folder = folder & Application.PathSeparator
    target = folder & SubmissionName(planId, unit, Now)
    If Len(Dir$(target)) > 0 Then
        If MsgBox(target & " already exists. Replace it?", vbQuestion + vbYesNo, MSG_TITLE) <> vbYes _
            Then Exit Sub
    End If

    Application.Calculate ' cached values must match the inputs, even in manual mode
    On Error GoTo Failed
    SaveCleanCopy wb, target
    On Error GoTo 0
    MsgBox "Submitted: " & target, vbInformation, MSG_TITLE
    Exit Sub
Failed:
    Application.DisplayAlerts = True
    MsgBox "Could not save " & target & ":" & vbLf & Err.Description, vbCritical, MSG_TITLE
End Sub

' <plan-id>-<UNIT>-<yyyymmdd-hhmm>.xlsx
Public Function SubmissionName(planId As String, unit As String, at As Date) As String
    SubmissionName = planId & "-" & unit & "-" & Format$(at, "yyyymmdd-hhmm") & ".xlsx"
End Function

' Save wb as a macro-free .xlsx at target without touching the open workbook.
Private Sub SaveCleanCopy(wb As Workbook, target As String)
    Dim temp As String, clean As Workbook, dot As Long
    Dim failNumber As Long, failText As String
    If wb.FileFormat = XLSX_FORMAT Then
        wb.SaveCopyAs target ' already a plain .xlsx: an exact copy
        Exit Sub
    End If
    ' .xlsm/.xlsb: copy in the same format, open that copy, save it as .xlsx (which
    ' drops any VBA project), then remove the temporary copy, whatever happened.
    dot = InStrRev(wb.Name, ".")
    temp = Left$(target, Len(target) - 5) & "-tmp" & IIf(dot > 0, Mid$(wb.Name, dot), ".xlsm")
    wb.SaveCopyAs temp
    Application.DisplayAlerts = False ' "VB project cannot be saved in a macro-free workbook"
    On Error Resume Next
    Set clean = Workbooks.Open(temp, UpdateLinks:=0, ReadOnly:=True)
    If Err.Number = 0 Then clean.SaveAs target, FileFormat:=XLSX_FORMAT
    failNumber = Err.Number
    failText = Err.Description
    If Not clean Is Nothing Then clean.Close SaveChanges:=False
    Kill temp
    On Error GoTo 0
    Application.DisplayAlerts = True
    If failNumber <> 0 Then Err.Raise failNumber, "xlplan", failText
End Sub

' A folder from the folder picker; an input box where the picker is not available.
Private Function PickFolder(wb As Workbook) As String
    On Error GoTo NoPicker
    With Application.FileDialog(FOLDER_PICKER)
        .Title = "Folder for the submission of " & wb.Name
        If .Show = -1 Then PickFolder = .SelectedItems(1)
    End With
    Exit Function
NoPicker:
    PickFolder = InputBox("Folder to save the submission in:", MSG_TITLE, wb.Path)
End Function
